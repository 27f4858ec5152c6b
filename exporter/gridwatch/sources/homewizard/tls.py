"""TLS for API v2: trust only the HomeWizard CA and check the device's certificate name.

Device certificates carry ``CN=appliance/<type>/<serial>`` and no subjectAltName, so the name
is checked against the common name, as HomeWizard documents.
"""

from __future__ import annotations

import ssl
from pathlib import Path

from homewizard_energy.v2.cacert import CACERT  # the CA the devices are signed with

P1_DEVICE_TYPE = "p1dongle"


def device_identifier(serial: str, device_type: str = P1_DEVICE_TYPE) -> str:
    return f"appliance/{device_type}/{serial.lower()}"


def client_context(ca_file: Path | None = None, *, check_name: bool = True) -> ssl.SSLContext:
    """A context trusting the HomeWizard CA (or ``ca_file``, e.g. a simulator's CA).

    With ``check_name=False`` the chain is still verified; this is only used to read the serial
    from ``GET /api`` when the user did not configure it, after which names are checked.
    """
    if ca_file is not None:
        context = ssl.create_default_context(cafile=str(ca_file))
    else:
        context = ssl.create_default_context(cadata=CACERT)
    # The device sends only its own certificate; allow the CA itself to be the trust anchor.
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    context.hostname_checks_common_name = True
    context.check_hostname = check_name
    context.verify_mode = ssl.CERT_REQUIRED
    return context
