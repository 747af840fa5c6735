from tests.dbutil import login, make_account


async def test_login_and_home(client):
    await make_account("dinsos_admin", "admin")
    await login(client, "admin")
    response = await client.get("/beranda")
    assert response.status_code == 200
    assert "Selamat datang" in response.text
