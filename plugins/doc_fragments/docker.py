# -*- coding: utf-8 -*-
# Copyright: gatewayops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The engine socket of the modules that talk to the Docker engine on the target (edge_reload,
container_stats_info): the option, the platform attribute and who may use the socket."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  docker_socket:
    description:
      - Path of the Docker engine's unix socket on the target.
    type: path
    default: /var/run/docker.sock
attributes:
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: docker
notes:
  - The user the module runs as needs access to O(docker_socket) (root or the C(docker) group).
  - In C(group/gatewayops.litellm.litellm) module defaults, the connection options (C(url),
    C(api_key) ...) are not options of this module; Ansible passes a group's defaults to every
    member, so set those on the LiteLLM modules' own names or in a separate block.
"""
