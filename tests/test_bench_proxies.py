"""The benchmark's reference proxies answer like kard-bff: the Kard answer, both rewrites made."""

import httpx
import pytest

from bench import minimal_proxy, naive_proxy
from bench.offers import ENDPOINTS, rewritten
from bench.proxy_rewrite import CREDENTIALS, USER


@pytest.mark.parametrize("proxy", [minimal_proxy, naive_proxy], ids=["reference", "naive"])
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda endpoint: endpoint.name)
def test_proxy_answers_the_rewritten_kard_answer(simulator, kard_url, monkeypatch, proxy, endpoint):
    simulator.enroll(USER)
    monkeypatch.setenv("BENCH_UPSTREAM_URL", kard_url)
    client = proxy.create_app().test_client()
    token = httpx.post(f"{kard_url}/v2/auth/token", json=CREDENTIALS)
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    kard = httpx.get(f"{kard_url}{endpoint.upstream_path}", headers=headers)
    assert kard.status_code == 200

    answer = client.get(endpoint.path)

    assert answer.status_code == 200
    assert answer.get_json() == rewritten(kard.json(), endpoint, kard_url)
