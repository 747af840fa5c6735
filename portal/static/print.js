/* Buttons marked data-print print the page (no inline onclick: the CSP forbids it). */
document.querySelectorAll("[data-print]").forEach(function (b) {
  b.addEventListener("click", function () { window.print(); });
});
