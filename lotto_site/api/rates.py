"""Rate strings ("120/min"), parsed without Django: settings.py checks them."""

import re

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
RATE_PATTERN = re.compile(r"^\s*(\d+)\s*/\s*([smhd])[a-z]*\s*$")


def parse_rate(rate: str) -> tuple[int, int]:
    """ "120/min" -> (120, 60): requests allowed per window of that many seconds.

    The strings DRF accepts (a number / s, m, h or d with any suffix: sec, min,
    hour, day); raises ValueError on anything else, including zero requests.
    """
    match = RATE_PATTERN.match(rate or "")
    if not match or int(match.group(1)) < 1:
        raise ValueError(
            f"{rate!r} is not a rate: write requests/period, e.g. 120/min "
            "(period: sec, min, hour or day)"
        )
    return int(match.group(1)), PERIODS[match.group(2)]
