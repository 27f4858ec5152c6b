"""vmauth in front of VictoriaMetrics holds each site to its own ``site`` label.

The requests are real remote-write bodies (gridwatch.fleet.wire), sent as a misbehaving or
misconfigured site would: a wrong token, another site's label in the series, another site's
``extra_label`` in the query string, a write with the read token, a read with a write token.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from gridwatch.fleet import wire
from tests.integration.fleet_harness import central, eventually

pytestmark = pytest.mark.integration


def _body(metric: str, labels: dict[str, str], at: float, value: float = 1.0) -> bytes:
    """One sample stamped ``at`` (the store's clock, so it lands inside its retention)."""
    now_ms = int(at * 1000)
    encoded = wire.labels({"__name__": metric, **labels})
    return wire.write_request([wire.series(encoded, [(now_ms, value)])])


async def test_a_token_writes_only_its_own_site(tmp_path: Path) -> None:
    async with central(tmp_path, "alpha", "beta") as c:
        for path in [c.token_file("alpha"), c.token_file("beta"), c.folder / "read.token"]:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        start = c.now() - 60
        alpha = c.token_file("alpha").read_text().strip()
        beta = c.token_file("beta").read_text().strip()

        # alpha claims to be beta twice: in the series' labels and in the query string.
        forged = _body("fleet_test_forged", {"site": "beta", "instance": "x"}, c.now())
        status = await c.post(
            "/api/v1/write?extra_label=site=beta", forged, alpha, **wire.CONTENT_HEADERS
        )
        assert status == 204
        assert (
            await c.post(
                "/api/v1/write", _body("fleet_test_own", {}, c.now()), beta, **wire.CONTENT_HEADERS
            )
            == 204
        )
        # Refused: a wrong token, and the read token writing; vmauth 1.79 answers 400 (401 later).
        wrong = await c.post(
            "/api/v1/write",
            _body("fleet_test_wrong", {}, c.now()),
            "not-a-token",
            **wire.CONTENT_HEADERS,
        )
        assert 400 <= wrong < 500
        as_reader = await c.post(
            "/api/v1/write",
            _body("fleet_test_reader", {}, c.now()),
            c.read_token,
            **wire.CONTENT_HEADERS,
        )
        assert 400 <= as_reader < 500
        # A site token cannot read (the fleet's data is not the site's to see).
        async with c.session.get(
            f"{c.url}/api/v1/query",
            params={"query": "up"},
            headers={"Authorization": f"Bearer {alpha}"},
        ) as response:
            assert 400 <= response.status < 500

        async def arrived() -> list[dict[str, str]]:
            found = await c.series('{__name__=~"fleet_test_.*"}', start, c.now() + 60)
            return found if len(found) >= 2 else []

        found = await eventually("both writes searchable", arrived)
        by_name = {s["__name__"]: s.get("site") for s in found}
        assert by_name == {"fleet_test_forged": "alpha", "fleet_test_own": "beta"}
