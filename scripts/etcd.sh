#!/usr/bin/env bash
# Installs what the `etcd` feature of teleport-discovery needs, when missing:
#   - `etcd` (Debian's etcd-server, 3.4: the v3 API) for the registry's integration tests,
#     which start their own server on loopback ports with a temporary data directory;
#   - `protoc` and the well-known .proto files (Debian's protobuf-compiler and
#     libprotobuf-dev): the etcd-client crate compiles etcd's .proto files when it is built.
# Debian or Ubuntu with root (or sudo); anything else prints what to install and fails.
set -euo pipefail

missing=()
command -v etcd >/dev/null 2>&1 || missing+=(etcd-server)
command -v protoc >/dev/null 2>&1 || missing+=(protobuf-compiler)
[ -f /usr/include/google/protobuf/descriptor.proto ] || missing+=(libprotobuf-dev)
if [ ${#missing[@]} -eq 0 ]; then
    echo "etcd.sh: etcd $(etcd --version 2>/dev/null | awk '/etcd Version/ {print $3}') and $(protoc --version) present"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "etcd.sh: missing ${missing[*]}; install etcd (3.4 or later) and protoc by hand" >&2
    exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
# The package starts a system-wide etcd on the default ports on some systems; the tests
# never use it (they start their own on free ports), so it is left as the package set it.
etcd --version | head -1
protoc --version
