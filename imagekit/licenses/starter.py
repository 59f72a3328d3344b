"""`imagekit licenses init`: a starter licence policy for a model's own dependencies.

The policy format itself is documented in imagekit/licenses/policy.py, in `imagekit licenses
--help` and in the README; the text written here is a commented example of it.
"""

from __future__ import annotations

from pathlib import Path

from imagekit.errors import InputError
from imagekit.fsio import write_text

DEFAULT_POLICY_FILE = "license-policy.toml"

# Permissive licences allowed; weak copyleft to a human; strong and network copyleft denied.
# The identifiers are SPDX's (https://spdx.org/licenses/); LicensePolicy.load checks each.
STARTER_POLICY = """\
# Licence policy for this model's dependencies (its Python packages, models and datasets),
# written by `imagekit licenses init`. Debian packages of the base image are judged by the
# platform team's base policy (base_images/policy/licenses.toml) instead.
#
#   imagekit licenses IMAGE --policy license-policy.toml     # exit 1 when a licence is denied
#
# A licence listed here gets its list's verdict; one not listed, or not an SPDX identifier, goes
# to review. AND needs every part (the worst verdict wins), OR lets the best branch win.

allow = [
    "MIT", "MIT-0", "BSD-2-Clause", "BSD-3-Clause", "0BSD", "ISC", "Apache-2.0",
    "PSF-2.0", "Python-2.0", "Zlib", "Unlicense", "CC0-1.0", "BSL-1.0", "HPND",
]
review = [
    "LGPL-2.1-only", "LGPL-2.1-or-later", "LGPL-3.0-only", "LGPL-3.0-or-later",
    "MPL-2.0", "EPL-2.0", "CC-BY-4.0", "CC-BY-SA-4.0",
]
deny = [
    "GPL-2.0-only", "GPL-2.0-or-later", "GPL-3.0-only", "GPL-3.0-or-later",
    "AGPL-3.0-only", "AGPL-3.0-or-later", "SSPL-1.0", "CC-BY-NC-4.0",
]

# One package (at one version, or every version without `version`) may use one licence:
# an SPDX id or expression, the licence name as the package states it, or NOASSERTION.
# [[exceptions]]
# package = "nvidia-cuda-runtime-cu12"
# version = "12.4.127"
# license = "LicenseRef-NVIDIA-Proprietary"
# reason = "CUDA EULA accepted by legal (ticket LEGAL-123)"
"""


def write_starter_policy(path: Path) -> Path:
    """Write the starter policy to `path`; raises `InputError` if a file is there already."""
    if path.exists():
        raise InputError(path, "already exists", "edit it, or choose another --policy path")
    try:
        write_text(path, STARTER_POLICY)
    except OSError as e:
        raise InputError(path, f"cannot write the policy: {e.strerror}", "check the path") from e
    return path
