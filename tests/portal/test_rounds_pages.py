import json
import re

from storage.jobs import wait_for
from tests import roundfixtures as f
from tests.dbutil import csrf, login, make_account


async def test_dinsos_starts_a_round_follows_progress_and_downloads_it(client):
    h = await f.household(n=1)
    await f.need(h, "pangan", 300_000, priority=90)
    await f.need(await f.household("32.73.15.1001", n=2), "pendidikan", 900_000, priority=50)
    await f.offer(await f.lks("Yayasan Peduli"), "pangan", capacity=1_000_000)
    await make_account("dinsos_admin", "dinsos")
    await login(client, "dinsos")
    response = await client.post("/ronde", data={"period": f.PERIOD, "_csrf_token": csrf(client)})
    assert response.status_code == 200 and "progressbar" in response.text
    job_id = int(re.search(r'data-job="(\d+)"', response.text).group(1))
    assert (await client.get(f"/api/jobs/{job_id}")).status_code == 200
    job = await wait_for(job_id, timeout=60)
    assert job["status"] == "done", job["message"]
    result = job["result"] if isinstance(job["result"], dict) else json.loads(job["result"])
    detail = await client.get(f"/ronde/{result['round_id']}")
    assert detail.status_code == 200
    assert "OPTIMAL" in detail.text and "pendidikan" in detail.text
    instance = await client.get(f"/ronde/{result['round_id']}/unduh/instance")
    assert instance.status_code == 200 and json.loads(instance.content)["period"] == f.PERIOD
    assert "attachment" in instance.headers["content-disposition"]


async def test_bad_period_is_refused_in_indonesian(client):
    await make_account("dinsos_admin", "dinsos")
    await login(client, "dinsos")
    response = await client.post("/ronde", data={"period": "bulan ini", "_csrf_token": csrf(client)})
    assert response.status_code == 400 and "TTTT-BB" in response.text
