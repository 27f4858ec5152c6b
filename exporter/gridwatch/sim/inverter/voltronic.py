"""A simulated Voltronic unit (PI30, PI30 MAX, PI18 or a three-phase PI17): the SMG-II scenario's
physical values (PV curve, load, battery, grid outages) written as the ASCII replies such a unit
sends. A PI17 unit takes its requests without a CRC, as the real one does.

``replay`` serves exactly given reply frames per command instead (real captures, byte for byte).
Tests switch on faults: a bad CRC, NAK to everything, silence, or a reply that passes its CRC
but carries garbage (as a real Axpert MAX TWIN did).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from gridwatch.sim.inverter.device import Scenario, ScenarioUnit
from gridwatch.sources.inverter.protocols import pi17, pi18
from gridwatch.sources.inverter.protocols.voltronic import crc

NAK = b"(NAK"


def frame(body: str | bytes) -> bytes:
    data = body.encode("latin-1") if isinstance(body, str) else body
    return data + crc(data) + b"\r"


class VoltronicDevice(ScenarioUnit):
    def __init__(
        self,
        family: str = "pi30",
        scenario: Scenario | None = None,
        *,
        max_model: bool = False,  # PI30 MAX: QPIGS2, QET, 24 QPIGS fields, 36 QPIWS bits
        serial: str = "92932105105335",
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(scenario, clock)
        self.family = family
        self.max_model = max_model
        self.serial = serial
        self.replay: dict[str, bytes] | None = None  # command → the whole reply frame
        self.corrupt_crc = False
        self.nak_all = False
        self.silent = False
        self.garbage = False  # CRC-valid reply with a non-number where a number belongs
        self.requests: list[str] = []

    # The Eybond dongle simulator forwards what it receives through this (the Modbus device's
    # method name): the dongle carries ASCII the same way.
    # The dongle hands over a whole payload; one without a CR (a Modbus frame) is answered with
    # NAK, as the real unit behind a dongle did (issue 17: "RTU reply CRC 730d" was "(NAKss\r").
    def handle_rtu(self, request: bytes) -> bytes | None:
        if not self.silent and not request.endswith(b"\r"):
            return frame(NAK)
        return self.answer(request)

    def answer(self, request: bytes) -> bytes | None:
        """The reply frame to one request frame (ending in CR); None = silence."""
        if self.silent or len(request) < 4 or not request.endswith(b"\r"):
            return None
        if self.family == "pi17":
            # No CRC: the announced length (command + CR) is all the unit can check.
            body = request[:-1]
            if body[:2] != b"^P" or not body[2:5].isdigit() or int(body[2:5]) != len(body) - 4:
                return frame("^0")
        else:
            body = request[:-3]
            if crc(body) != request[-3:-1]:
                return frame(NAK)  # a garbled request: the unit answers NAK
        command = body.decode("latin-1")
        self.requests.append(command)
        if self.nak_all:
            return frame(NAK)
        if self.replay is not None:
            return self.replay.get(command, frame(NAK))
        text = self._text(command)
        if text is None:
            return frame(NAK if self.family == "pi30" or not command.startswith("^P") else "^0")
        if self.garbage and self.family == "pi17":
            text = text.replace(",", ",\xb0", 1)  # every PI17 field is a number
        if self.garbage:
            text = text.replace("0", "\xb0", 1)
        reply = frame(text)
        if self.corrupt_crc:
            reply = reply[:-2] + bytes((reply[-2] ^ 0xFF,)) + b"\r"
        return reply

    def _physics(self) -> dict[str, float]:
        sc = self.scenario
        elapsed, dt_h = self._step()
        grid = self.grid_up
        pv, load = sc.pv_w(elapsed), sc.load_w(elapsed)
        battery_w = pv - load
        if self._soc >= 1.0 and battery_w > 0:
            battery_w = 0.0
        self._charge(battery_w, dt_h)
        volts = 48.0 + 6.0 * self._soc + battery_w / 2000
        return {
            "grid_v": 230.0 if grid else 0.0,
            "grid_hz": 50.0 if grid else 0.0,
            "load": load,
            "pv": pv,
            "soc": round(100 * self._soc),
            "bat_v": volts,
            "charge_a": max(0.0, battery_w) / volts,
            "discharge_a": max(0.0, -battery_w) / volts,
        }

    def _text(self, command: str) -> str | None:
        if self.family == "pi18":
            return self._pi18(command)
        if self.family == "pi17":
            return self._pi17(command)
        return self._pi30(command)

    def _pi30(self, command: str) -> str | None:
        if command == "QPI":
            return "(PI30"
        if command == "QID":
            return f"({self.serial}"
        if command == "QVFW":
            return "(VERFW:00072.70"
        if command == "QMOD":
            return "(L" if self.grid_up else "(B"
        if command == "QPIWS":
            bits = ["0"] * (36 if self.max_model else 32)
            bits[5] = "0" if self.grid_up else "1"  # line fail
            return "(" + "".join(bits)
        if command == "QET" and self.max_model:
            return f"({self.pv_energy_wh():08.0f}"
        if command == "QPIRI":
            return (
                "(230.0 23.9 230.0 50.0 23.9 5500 5500 48.0 51.0 48.0 55.3 55.3 2 02 100 0 2 3 1 "
                "01 0 0 53.0 0 1"
            )
        if command == "QPIGS2" and self.max_model:
            p = self._physics()
            pv2 = p["pv"] * 0.4
            return f"({pv2 / 300:04.1f} {300.0 if pv2 else 0.0:05.1f} {pv2:05.0f} "
        if command == "QPIGS":
            p = self._physics()
            pv1 = p["pv"] * (0.6 if self.max_model else 1.0)
            pv_v = 310.0 if pv1 else 0.0
            # b4 load on; b2 charging, b1 by the SCC (PV), b0 from the mains (PV cannot cover it)
            charging = p["charge_a"] > 0
            ac = "1" if charging and self.grid_up and not p["pv"] else "0"
            scc = "1" if charging and p["pv"] else "0"
            status = f"00010{'1' if charging else '0'}{scc}{ac}"
            floating = "1" if p["soc"] >= 100 else "0"
            text = (
                f"({p['grid_v']:05.1f} {p['grid_hz']:04.1f} 230.0 50.0 {p['load'] / 0.85:04.0f} "
                f"{p['load']:04.0f} {100 * p['load'] / 5500:03.0f} 400 {p['bat_v']:05.2f} "
                f"{p['charge_a']:03.0f} {p['soc']:03.0f} 0035 {pv1 / 310:04.1f} {pv_v:05.1f} "
                f"00.00 {p['discharge_a']:05.0f} {status} 00 00 {pv1:05.0f} {floating}10"
            )
            if self.max_model:  # feed-in enabled, country 00, nothing fed in (no surplus)
                text += " 1 00 00000"
            return text
        return None

    def pv_energy_wh(self) -> float:
        """A total that only grows: a fixed start plus the scenario's elapsed time at 1 kW."""
        return 802946 + self.scenario.elapsed(self.clock()) / 3.6

    def _pi17(self, command: str) -> str | None:
        names = {
            pi17.command(n): n for n in ("PI", "ID", "VFW", "GS", "PS", "MOD", "WS", "PIRI", "ET")
        }
        name = names.get(command)
        if name == "PI":
            return d("17")
        if name == "ID":
            return d(f"{len(self.serial):02d}{self.serial}".ljust(22, "0"))
        if name == "VFW":
            return d("VERFW:00001.01")
        if name == "MOD":
            return d("05" if self.grid_up else "03")
        if name == "ET":
            return d(f"{self.pv_energy_wh() / 1000:08.0f}")  # kWh on PI17
        if name == "WS":
            warnings = ["0"] * 22
            warnings[14] = "0" if self.grid_up else "1"  # AC input voltage loss
            return d(",".join(warnings) + ",")
        if name == "PIRI":
            return d("2300,500,0416,2300,0416,0187,0480,2,10,0,1")
        p = self._physics()
        pv1, pv2 = p["pv"] * 0.6, p["pv"] * 0.4
        phase_w = p["load"] / 3
        grid = [f"{10 * p['grid_v']:04.0f}"] * 3
        battery_a = p["charge_a"] - p["discharge_a"]
        if name == "GS":
            return d(
                ",".join(
                    [
                        "3100" if pv1 else "0000",
                        "3100" if pv2 else "0000",
                        f"{10 * pv1 / 310:04.0f}",
                        f"{10 * pv2 / 310:04.0f}",
                        f"{10 * p['bat_v']:04.0f}",
                        f"{p['soc']:03.0f}",
                        f"{10 * battery_a:+06.0f}",
                        *grid,
                        f"{100 * p['grid_hz']:04.0f}",
                        *[f"{10 * phase_w / 230 if self.grid_up else 0:04.0f}"] * 3,
                        "2300",
                        "2300",
                        "2300",
                        "5000",
                        "",
                        "",
                        "",
                        "035",
                        "040",
                        "025",
                        "0",
                    ]
                )
            )
        if name == "PS":
            battery_w = p["bat_v"] * abs(battery_a)
            direction = "1" if battery_a > 0 else "2" if battery_a < 0 else "0"
            mains = phase_w if self.grid_up else 0.0
            return d(
                ",".join(
                    [
                        f"{pv1:05.0f}",
                        f"{pv2:05.0f}",
                        f"{battery_w:05.0f}",
                        *[f"{mains:05.0f}"] * 3,
                        f"{3 * mains:05.0f}",
                        *[f"{phase_w:05.0f}"] * 3,
                        f"{p['load']:05.0f}",
                        *[f"{phase_w / 0.85:05.0f}"] * 3,
                        f"{p['load'] / 0.85:05.0f}",
                        f"{100 * p['load'] / 10000:03.0f}",
                        "1",
                        "1" if pv1 else "0",
                        "1" if pv2 else "0",
                        direction,
                        "1" if self.grid_up else "2",
                        "1" if self.grid_up else "0",
                    ]
                )
            )
        return None

    def _pi18(self, command: str) -> str | None:

        names = {pi18.command(n): n for n in ("PI", "ID", "VFW", "GS", "MOD", "FWS", "PIRI", "ET")}
        name = names.get(command)
        if name == "PI":
            return d("18")
        if name == "ID":
            return d(f"{len(self.serial):02d}{self.serial}".ljust(22, "0"))
        if name == "VFW":
            return d("07601,08028,00000")
        if name == "MOD":
            return d("05" if self.grid_up else "03")
        if name == "ET":
            return d(f"{self.pv_energy_wh():08.0f}")
        if name == "FWS":
            return d("00," + ",".join(["0" if self.grid_up else "1"] + ["0"] * 16))
        if name == "PIRI":
            return d(
                "2300,243,2300,500,243,5600,5600,480,500,520,480,554,540,2,010,060,0,0,2,9,1,0,0,0,1,00"
            )
        if name == "GS":
            p = self._physics()
            pv1, pv2 = p["pv"] * 0.6, p["pv"] * 0.4
            data = ",".join(
                [
                    f"{10 * p['grid_v']:04.0f}",
                    f"{10 * p['grid_hz']:03.0f}",
                    "2300",
                    "500",
                    f"{p['load'] / 0.85:04.0f}",
                    f"{p['load']:04.0f}",
                    f"{100 * p['load'] / 5600:03.0f}",
                    f"{10 * p['bat_v']:03.0f}",
                    "000",
                    "000",
                    f"{p['discharge_a']:03.0f}",
                    f"{p['charge_a']:03.0f}",
                    f"{p['soc']:03.0f}",
                    "035",
                    "030",
                    "030",
                    f"{pv1:04.0f}",
                    f"{pv2:04.0f}",
                    "3100" if pv1 else "0000",
                    "3100" if pv2 else "0000",
                    "0",
                    "2",
                    "2",
                    "1",
                    "1" if p["charge_a"] else "2",
                    "2",
                    "1" if self.grid_up else "0",
                    "0",
                ]
            )
            return d(data)
        return None


def d(data: str) -> str:
    """A ``^D`` reply's text: the length counts the data, the 2 CRC bytes and the CR."""
    return f"^D{len(data) + 3:03d}{data}"
