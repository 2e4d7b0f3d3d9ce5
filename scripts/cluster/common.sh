# SPDX-License-Identifier: MIT
# common.sh - names shared by the emulated cluster's scripts (sourced).
# Everything they create carries the prefix "dsc" (namespaces dsc-h1...,
# bridge dscbr0, veths dscv1...) or the marker "descent-cluster" (/etc/hosts
# lines), so that down.sh can find it after a crash.
CLUSTER_STATE=${DESCENT_CLUSTER_STATE:-/run/descent-cluster}
CLUSTER_SUBNET=10.77.0
CLUSTER_BRIDGE=dscbr0
CLUSTER_HOSTS_MARK="# descent-cluster"
CLUSTER_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
host_name() { echo "dsc-h$1"; }
