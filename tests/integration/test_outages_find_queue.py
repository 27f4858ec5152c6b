"""``gridwatch find-queue`` as a user runs it, against the simulated YASNO address lookup."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Mapping

import pytest

from gridwatch.sim.outages.peers import OperatorPeer

pytestmark = pytest.mark.integration

STREETS = [{"id": 101, "value": "вул. Хрещатик"}, {"id": 102, "value": "пров. Хрещатий"}]
HOUSES = [{"id": 7, "value": "22"}, {"id": 8, "value": "22А"}]


def streets(query: Mapping[str, str]) -> object:
    assert (query["regionId"], query["dsoId"]) == ("25", "902")
    return [s for s in STREETS if query["query"].casefold() in s["value"].casefold()]


def houses(query: Mapping[str, str]) -> object:
    assert query["streetId"] == "101"
    return [h for h in HOUSES if h["value"].startswith(query["query"])]


def group(query: Mapping[str, str]) -> object:
    return {"group": 3, "subgroup": 1} if query["houseId"] == "7" else {"group": 5, "subgroup": 2}


@pytest.fixture
async def yasno() -> AsyncIterator[OperatorPeer]:
    async with OperatorPeer() as peer:
        peer.serve("/addresses/v2/streets", streets)
        peer.serve("/addresses/v2/houses", houses)
        peer.serve("/addresses/v2/group", group)
        yield peer


async def find(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gridwatch", "find-queue", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_an_address_gives_the_queue_and_the_config(yasno: OperatorPeer) -> None:
    code, out, err = await find(
        "yasno-kyiv", "--street", "Хрещатик", "--house", "22", "--url", yasno.url
    )
    assert (code, err) == (0, "")
    assert out == (
        '# вул. Хрещатик, 22: queue 3.1\noutages:\n  operator: yasno-kyiv\n  queue: "3.1"\n'
    )


async def test_ambiguous_and_unknown_addresses_say_why(yasno: OperatorPeer) -> None:
    code, _, err = await find(
        "yasno-kyiv", "--street", "Хрещат", "--house", "22", "--url", yasno.url
    )
    assert code == 1 and "2 streets match 'Хрещат'" in err and "пров. Хрещатий" in err
    code, _, err = await find(
        "yasno-kyiv", "--street", "Хрещатик", "--house", "99", "--url", yasno.url
    )
    assert code == 1 and "no house matches '99'" in err
    yasno.mode = "forbidden"
    code, _, err = await find(
        "yasno-kyiv", "--street", "Хрещатик", "--house", "22", "--url", yasno.url
    )
    assert code == 1 and "HTTP 403" in err


async def test_operators_without_a_lookup_say_where_to_look() -> None:
    code, out, _ = await find("lvivoblenergo")
    assert code == 1 and "poweron.loe.lviv.ua" in out
    code, _, err = await find("nowhere")
    assert code == 2 and "unknown operator" in err
