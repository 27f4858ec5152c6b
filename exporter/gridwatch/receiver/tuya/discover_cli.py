"""The arguments of ``gridwatch discover-tuya`` and the cloud settings they give."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import get_args

from pydantic import SecretStr

from gridwatch.config import ConfigError, load_config
from gridwatch.receiver.tuya.config import Region, TuyaCloudConfig

SECRET_ENV = "TUYA_ACCESS_SECRET"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-c", "--config", type=Path, help="take the credentials from receiver.tuya.cloud of it"
    )
    parser.add_argument("--access-id", help="the cloud project's Access ID")
    parser.add_argument(
        "--access-secret-file",
        type=Path,
        help=f"file holding the Access Secret (or set {SECRET_ENV})",
    )
    parser.add_argument("--region", choices=get_args(Region), default=None)
    parser.add_argument("--base-url", default=None, help="another OpenAPI host (tests)")
    parser.add_argument("--user-id", help="the app account's uid (Devices → Link App Account)")
    parser.add_argument(
        "--show-keys", action="store_true", help="print the local keys in the snippet (stdout)"
    )
    parser.add_argument(
        "--keys-dir", type=Path, default=None, help="write each local key to DIR/<plug>.key (0600)"
    )
    parser.add_argument(
        "--shed-group",
        default=None,
        help="put every listed device in this group, with a GridDown rule switching it off",
    )
    parser.add_argument(
        "--except",
        dest="shed_except",
        action="append",
        default=[],
        metavar="NAME[,NAME…]",
        help="leave these devices (app name, plug name or id) out of --shed-group",
    )
    parser.add_argument(
        "--all-categories",
        action="store_true",
        help="list every device, not only plugs, strips and switches",
    )


def cloud_settings(args: argparse.Namespace) -> tuple[TuyaCloudConfig, str]:
    """The cloud config and uid from the flags, falling back to the config file's section."""
    base: dict[str, object] = {}
    user_id = args.user_id
    if args.config is not None:
        receiver = load_config(args.config).receiver
        cloud = receiver.tuya.cloud if receiver is not None and receiver.tuya else None
        if cloud is None:
            raise ConfigError(str(args.config), [("receiver.tuya.cloud", "missing")])
        base = cloud.model_dump(exclude_none=True)
        user_id = user_id or cloud.user_id
    if args.access_id:
        base["access_id"] = args.access_id
    if args.access_secret_file is not None:
        base.pop("access_secret", None)
        base["access_secret_file"] = args.access_secret_file
    elif "access_secret" not in base and "access_secret_file" not in base:
        secret = os.environ.get(SECRET_ENV, "")
        if not secret:
            raise _missing("access_secret", f"give --access-secret-file or set {SECRET_ENV}")
        base["access_secret"] = SecretStr(secret)
    for key in ("region", "base_url"):
        if getattr(args, key) is not None:
            base[key] = getattr(args, key)
    if "access_id" not in base:
        raise _missing("access_id", "give --access-id (or -c with receiver.tuya.cloud)")
    if not user_id:
        raise _missing("user_id", "give --user-id (or -c with receiver.tuya.cloud.user_id)")
    try:
        return TuyaCloudConfig.model_validate(base), user_id
    except ValueError as exc:
        raise _missing("cloud", str(exc)) from None


def _missing(key: str, message: str) -> ConfigError:
    return ConfigError("discover-tuya", [(key, message)])
