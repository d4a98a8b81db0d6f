#!/usr/bin/env bash
# Debian packages the end-to-end tests use. Safe to run again; skips what is already there.
set -euo pipefail
# python3-junitparser, libxml2-utils (xmllint): the JUnit file read by a real consumer and checked against Jenkins' schema (test/junit/).
# linux-image-amd64, busybox-static, systemd-boot-efi, cpio, zstd: the Linux workload test/qemu/linux-workload.test.ts builds.
# openipmi (ipmi_sim), ipmitool: the IPMI power driver against a simulated BMC (test/support/ipmi-sim.ts).
# socat: a lab console read from a VM's serial port on a unix socket (test/lab/console.test.ts).
packages=(curl binutils python3-junitparser libxml2-utils iproute2 avahi-daemon avahi-utils dbus qemu-system-x86 ovmf dosfstools mtools xorriso dnsmasq-base chromium tmux nginx haproxy openssl
  linux-image-amd64 busybox-static systemd-boot-efi cpio zstd openipmi ipmitool socat)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "missing Debian packages: ${missing[*]} (run as root, or apt-get install them)" >&2
    exit 1
  fi
  # The tests start their own Avahi, nginx, haproxy and dnsmasq; the packages must not start system
  # services (a system avahi-daemon would announce on the machine's real interfaces).
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
