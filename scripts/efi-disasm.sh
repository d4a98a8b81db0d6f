#!/bin/sh
# Shows what src/efi generates: PE headers and the .text disassembly of poweroff.efi, or of a
# workload built from the arguments.
#   scripts/efi-disasm.sh                          # poweroff.efi
#   scripts/efi-disasm.sh "workload-1 running" 2000000 warm
# Needs objdump (Debian: binutils).
set -eu
cd "$(dirname "$0")/.."
out=$(mktemp --suffix=.efi)
trap 'rm -f "$out"' EXIT
bun -e '
  const [out, message, stall, reset] = process.argv.slice(1);
  const bytes = message === undefined
    ? (await import("./src/efi/poweroff.ts")).poweroffEfi
    : (await import("./src/efi/app.ts")).efiApp({
        message,
        stallMicroseconds: Number(stall ?? 0),
        reset: (reset ?? "shutdown") as "shutdown" | "warm" | "cold",
      });
  await Bun.write(out!, bytes);
' "$out" "$@"
echo "$(wc -c < "$out") bytes"
objdump -x "$out"
# The code ends at "jmp $" (eb fe); what follows is int3 padding and the UTF-16 message.
objdump -d "$out"
