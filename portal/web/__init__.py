"""HTML pages and JSON API, one module per feature; each defines ``ROUTES`` (controllers/handlers)."""
