#!/bin/sh
# Containers have no init system: never start services from package scripts.
exit 101
