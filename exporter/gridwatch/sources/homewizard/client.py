"""HTTP and WebSocket access to one HomeWizard device (API v1 over HTTP, v2 over HTTPS)."""

from __future__ import annotations

import contextlib
import json
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
from homewizard_energy.const import MODEL_TO_ID

from gridwatch import __version__
from gridwatch.sources.homewizard.config import HomeWizardConnection
from gridwatch.sources.homewizard.errors import http_status_error, translated_errors
from gridwatch.sources.homewizard.parse import PayloadError, parse_device_info
from gridwatch.sources.homewizard.reading import DeviceInfo
from gridwatch.sources.homewizard.tls import P1_DEVICE_TYPE, client_context, device_identifier

# product_type (HWE-KWH3, …) → the <type> in its certificate name (energymeter, …)
CERT_TYPE = {str(model): cert_type for model, cert_type in MODEL_TO_ID.items()}
MAX_BODY = 256 * 1024  # a measurement is ~2 kB; anything huge is not a P1 meter


async def _read_limited(response: aiohttp.ClientResponse) -> bytes:
    """The whole body, refusing (rather than truncating) one larger than MAX_BODY."""
    body = bytearray()
    async for chunk in response.content.iter_chunked(16384):
        body += chunk
        if len(body) > MAX_BODY:
            raise PayloadError(f"response larger than {MAX_BODY} bytes")
    return bytes(body)


class HomeWizardClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        host: str,
        *,
        api: str,
        token: str | None = None,
        serial: str | None = None,
        ca_file: Path | None = None,
        http_port: int | None = None,
        https_port: int | None = None,
        device_type: str | None = P1_DEVICE_TYPE,
    ) -> None:
        self.api = api
        # The <type> of the certificate name appliance/<type>/<serial>; None = learn from /api.
        self._device_type = device_type
        self._session = session
        self._token = token
        self._serial = serial
        host_part = f"[{host}]" if ":" in host else host
        if api == "v2":
            self.base_url = f"https://{host_part}:{https_port or 443}"
        else:
            self.base_url = f"http://{host_part}:{http_port or 80}"
        self._ca_file = ca_file
        self._verified: ssl.SSLContext | None = None

    @property
    def identifier(self) -> str | None:
        if self._serial is None or self._device_type is None:
            return None
        return device_identifier(self._serial, self._device_type)

    def _tls(self) -> tuple[ssl.SSLContext | bool, str | None]:
        if self.api != "v2":
            return True, None
        if self.identifier is None:
            # Chain checked, name not yet known: only used for GET /api, which tells the serial.
            return client_context(self._ca_file, check_name=False), None
        if self._verified is None:
            self._verified = client_context(self._ca_file)
        return self._verified, self.identifier

    def _headers(self) -> dict[str, str]:
        if self.api != "v2":
            return {}
        headers = {"X-Api-Version": "2"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        return headers

    async def _get_json(self, path: str, what: str) -> object:
        return await self.request_json("GET", path, what)

    async def request_json(
        self, method: str, path: str, what: str, body: object | None = None
    ) -> object:
        ssl_arg, server_hostname = self._tls()
        async with (
            translated_errors(what),
            self._session.request(
                method,
                self.base_url + path,
                headers=self._headers(),
                json=body,
                ssl=ssl_arg,
                server_hostname=server_hostname,
            ) as response,
        ):
            text = (await _read_limited(response)).decode("utf-8", errors="replace")
            if response.status != 200:
                raise http_status_error(response.status, text)
            try:
                return json.loads(text)
            except ValueError as exc:
                raise PayloadError(f"not JSON: {exc}") from None

    async def device_info(self) -> DeviceInfo:
        info = parse_device_info(await self._get_json("/api", "reading device info"))
        if self.api == "v2" and self._serial is None and info.serial:
            self._serial = info.serial
        if self._device_type is None and info.product_type:
            self._device_type = CERT_TYPE.get(info.product_type)
        return info

    async def measurement(self) -> object:
        path = "/api/measurement" if self.api == "v2" else "/api/v1/data"
        return await self._get_json(path, "reading measurement")

    async def websocket(self, heartbeat: float) -> aiohttp.ClientWebSocketResponse:
        ssl_arg, server_hostname = self._tls()
        url = self.base_url.replace("https://", "wss://", 1) + "/api/ws"
        async with translated_errors("opening push stream"):
            return await self._session.ws_connect(
                url,
                ssl=ssl_arg,
                server_hostname=server_hostname,
                heartbeat=heartbeat,
                max_msg_size=MAX_BODY,
            )


@contextlib.asynccontextmanager
async def connected(
    conn: HomeWizardConnection, *, device_type: str | None = P1_DEVICE_TYPE
) -> AsyncIterator[HomeWizardClient]:
    """A client for one configured device, over v2 when it has a token, with its own session."""
    timeout = aiohttp.ClientTimeout(total=conn.timeout)
    headers = {"User-Agent": f"gridwatch/{__version__}"}
    async with aiohttp.ClientSession(timeout=timeout, headers=headers) as session:
        yield HomeWizardClient(
            session,
            conn.host,
            api="v2" if conn.uses_v2 else "v1",
            token=conn.resolved_token(),
            serial=conn.serial,
            ca_file=conn.ca_file,
            http_port=conn.http_port,
            https_port=conn.https_port,
            device_type=device_type,
        )
