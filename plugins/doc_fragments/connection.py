# -*- coding: utf-8 -*-
# Copyright: gatewayops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the modules of gatewayops.litellm reach a LiteLLM proxy (their connection options)."""

from __future__ import annotations


class ModuleDocFragment:
    # Connection options (plugins/module_utils/_http.py connection_argument_spec()).
    DOCUMENTATION = r"""
options:
  url:
    description:
      - Base URL of the LiteLLM proxy, C(http://) or C(https://), host, optional port and optional
        path prefix (when a reverse proxy serves LiteLLM under one).
      - The module runs on the target, so C(127.0.0.1) means the target itself.
    type: str
    default: http://127.0.0.1:4000
  api_key:
    description:
      - "Key sent as C(Authorization: Bearer <key>): the proxy's master key or a virtual key."
      - Only sent to the origin of O(url); redirects to other origins are not followed.
      - LiteLLM without a database accepts only its master key and answers any other key with
        HTTP 400 C(No connected db.); the modules report that as a refused key.
    type: str
  timeout:
    description:
      - Seconds to wait for each HTTP answer (connect and read).
    type: float
    default: 10.0
  validate_certs:
    description:
      - Verify the proxy's TLS certificate when O(url) is C(https://).
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of the certificate authorities to trust for C(https://), instead of the system's.
    type: path
"""
