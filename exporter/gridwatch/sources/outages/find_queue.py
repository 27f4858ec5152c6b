"""``gridwatch find-queue``: an address → the operator's queue, printed as a config snippet.

YASNO offers the lookup (PROTOCOLS-2.md §1.2): ``…/addresses/v2/streets?regionId=&dsoId=&query=``
→ ``[{id, value}]``, ``…/houses?regionId=&streetId=&dsoId=&query=`` → ``[{id, value}]``,
``…/group?regionId=&streetId=&houseId=&dsoId=`` → ``{group, subgroup}`` = queue
``"{group}.{subgroup}"``. Other operators have no open lookup; the command says where to look.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from typing import TextIO

import aiohttp

from gridwatch.core.source import SourceError
from gridwatch.sources.outages.fetch import fetch_json
from gridwatch.sources.outages.providers import PROVIDERS
from gridwatch.sources.outages.providers.yasno import DEFAULT_URL, Yasno

MANUAL = {
    "be-svitlo": "search your account number or address on https://svitlo.oe.if.ua",
    "dtek-gpv": "enter your address on your DTEK site's shutdowns page (e.g. "
    "https://www.dtek-dnem.com.ua/ua/shutdowns); it names the group, e.g. GPV4.2 = queue 4.2",
    "lvivoblenergo": "enter your address on https://poweron.loe.lviv.ua",
}


class AddressLookupError(Exception):
    """The address did not lead to one queue; the message says which step."""


@dataclass(frozen=True, slots=True)
class Match:
    id: int
    value: str


def parse_matches(payload: object, what: str) -> list[Match]:
    if not isinstance(payload, list):
        raise AddressLookupError(f"the {what} search did not answer a list")
    matches = []
    for item in payload:
        if not isinstance(item, dict):
            raise AddressLookupError(f"a {what} entry is not an object: {item!r}"[:120])
        ident, value = item.get("id"), item.get("value")
        if not isinstance(ident, int) or isinstance(ident, bool) or not isinstance(value, str):
            raise AddressLookupError(f"a {what} entry without id/value: {item!r}"[:120])
        matches.append(Match(ident, value))
    return matches


def parse_group(payload: object) -> str:
    if not isinstance(payload, dict):
        raise AddressLookupError("the group lookup did not answer an object")
    group, sub = payload.get("group"), payload.get("subgroup")
    if not isinstance(group, int | str) or not isinstance(sub, int | str):
        raise AddressLookupError(f"the group lookup answered no group/subgroup: {payload!r}"[:120])
    return f"{group}.{sub}"


def _pick(matches: list[Match], query: str, what: str) -> Match:
    if not matches:
        raise AddressLookupError(f"no {what} matches {query!r}")
    exact = [m for m in matches if m.value.casefold() == query.casefold()]
    if len(exact) == 1 or len(matches) == 1:
        return exact[0] if exact else matches[0]
    names = "; ".join(m.value for m in matches[:10])
    raise AddressLookupError(f"{len(matches)} {what}s match {query!r}: {names} — be more precise")


async def yasno_queue(
    provider: type[Yasno], street: str, house: str, base_url: str | None, timeout: float = 20.0
) -> tuple[str, str, str]:
    """(queue, street as YASNO names it, house as YASNO names it)."""
    base = (base_url or DEFAULT_URL).rstrip("/")
    ids = {"regionId": str(provider.region), "dsoId": str(provider.dso)}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session:
        url = f"{base}/addresses/v2/streets"
        payload = await fetch_json(session, "GET", url, params={**ids, "query": street})
        found_street = _pick(parse_matches(payload, "street"), street, "street")
        at_street = {**ids, "streetId": str(found_street.id)}
        url = f"{base}/addresses/v2/houses"
        payload = await fetch_json(session, "GET", url, params={**at_street, "query": house})
        found_house = _pick(parse_matches(payload, "house"), house, "house")
        url = f"{base}/addresses/v2/group"
        params = {**at_street, "houseId": str(found_house.id)}
        queue = parse_group(await fetch_json(session, "GET", url, params=params))
    return queue, found_street.value, found_house.value


def snippet(operator: str, queue: str) -> str:
    return f'outages:\n  operator: {operator}\n  queue: "{queue}"\n'


def find_queue(
    operator: str,
    street: str | None,
    house: str | None,
    url: str | None,
    out: TextIO = sys.stdout,
) -> int:
    """The command: 0 with the snippet printed, 1 when the lookup failed, 2 on bad arguments."""
    provider = PROVIDERS.get(operator)
    if provider is None:
        print(f"unknown operator {operator!r} (known: {', '.join(PROVIDERS)})", file=sys.stderr)
        return 2
    if not (isinstance(provider, type) and issubclass(provider, Yasno)):
        print(f"{operator} offers no address lookup: {MANUAL.get(operator, '')}", file=out)
        return 1
    if not street or not house:
        print("give --street and --house, e.g. --street Хрещатик --house 22", file=sys.stderr)
        return 2
    try:
        queue, street_name, house_name = asyncio.run(yasno_queue(provider, street, house, url))
    except (AddressLookupError, SourceError) as exc:
        print(f"{operator}: {exc}", file=sys.stderr)
        return 1
    print(f"# {street_name}, {house_name}: queue {queue}", file=out)
    print(snippet(operator, queue), end="", file=out)
    return 0
