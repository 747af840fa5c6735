"""The data protection officer reads the access log; the log records ids, never the data."""

from storage.access import log_access
from storage.accounts import load_user
from storage.tables import DataAccess
from tests.dbutil import login, make_account


async def test_dpo_sees_who_read_whose_data(client):
    reader_id = await make_account("pekerja_sosial", "peksos")
    reader = await load_user(reader_id)
    await log_access(reader, [11, 12, 12], "lihat detail keluarga")
    await make_account("dpo", "dpo")
    await login(client, "dpo")
    response = await client.get("/privasi/akses", params={"username": "peksos"})
    assert response.status_code == 200
    assert "2 keluarga" in response.text
    assert await DataAccess.count() == 2


async def test_nothing_in_the_product_changes_the_access_log(client):
    from portal.app import create_app

    app = create_app()
    writers = [r.path for r in app.routes if "akses" in r.path and r.methods - {"GET", "HEAD", "OPTIONS"}]
    assert writers == []


async def test_long_access_log_pages_keep_the_filter(client):
    reader = await load_user(await make_account("pekerja_sosial", "peksos"))
    await log_access(reader, range(1, 61), "daftar keluarga")
    await make_account("dpo", "dpo")
    await login(client, "dpo")
    first = await client.get("/privasi/akses", params={"username": "peksos"})
    assert "Halaman 1 dari 2" in first.text
    assert "?username=peksos&amp;household=&amp;dari=&amp;sampai=&amp;page=2" in first.text
    second = await client.get("/privasi/akses", params={"username": "peksos", "page": "2"})
    assert "Halaman 2 dari 2" in second.text and second.text.count("<td>peksos</td>") == 10
