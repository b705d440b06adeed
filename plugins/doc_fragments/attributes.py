# -*- coding: utf-8 -*-
# Copyright: gatewayops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the attributes of gatewayops.litellm's modules mean. Each module states its own
support (and details) under attributes in its DOCUMENTATION, or takes INFO_MODULE when it
only reads (as community.docker's attributes.info_module)."""

from __future__ import annotations


class ModuleDocFragment:
    # Descriptions of the standard attributes; the module gives support and details.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in C(check_mode) and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in C(check_mode)), when in diff mode.
  idempotent:
    description:
      - When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
"""

    # The support of a module that only reads (health_info, metrics_info, model_probe), stated once.
    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
    details:
      - The module only reads; it runs the same in check mode.
  diff_mode:
    support: none
  idempotent:
    support: full
    details:
      - The module never reports C(changed).
"""

    # Membership in the collection's action group (meta/runtime.yml action_groups.litellm).
    ACTIONGROUP = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/gatewayops.litellm.litellm) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - gatewayops.litellm.litellm
"""
