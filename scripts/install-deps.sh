#!/bin/bash
# Install what the test command (scripts/test.sh) needs on Debian bookworm: the interop peers
# (kamailio, sipp, linphonec, baresip), tools the interop scripts use, and a check that the
# Rust toolchain is present. Idempotent, non-interactive; run as root.
#   scripts/install-deps.sh
# The apt step is skipped when every package is already installed (checked with dpkg -s),
# so a second run takes well under a second.
set -euo pipefail

PACKAGES=(
  kamailio kamailio-tls-modules kamailio-extra-modules kamailio-utils-modules
  sip-tester            # provides /usr/bin/sipp (Debian has no package named "sipp")
  linphone-cli          # linphonec
  baresip baresip-core
  openssl sox espeak-ng tcpdump tshark iproute2 python3 jq
  ca-certificates procps coreutils
  libopus-dev pkg-config cmake  # Opus codec: audiopus links the system libopus found by pkg-config
  libsrtp2-dev          # SRTP cross-check and bench against libsrtp2 (scripts/srtp, scripts/bench/srtp)
  iptables libnetfilter-queue-dev gcc python3-dev  # voice bench: userspace netem (NFQUEUE)
  clang lld llvm        # android-check: C in build scripts (ring) for Android targets, no NDK
  maven default-jdk-headless  # kotlin-jvm: the Kotlin API tested on the JVM (Maven Central)
)
# android-check (scripts/check-android.sh): Debian's own Rust toolchain with its std source, so that
# -Zbuild-std can build std for the Android targets (rustup's cargo cannot use Debian's std source).
# Only bookworm-security carries a new enough one (1.96); bookworm's own 1.85 is not what was tested.
ANDROID_RUST=(rustc-web cargo-web rust-web-src rust-web-clippy)
ANDROID_RUST_MIN=1.96

missing=()
for p in "${PACKAGES[@]}"; do
  # dpkg -s reports "Status: install ok installed" only for fully installed packages
  if ! dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed'; then
    missing+=("$p")
  fi
done

missing_android=()
for p in "${ANDROID_RUST[@]}"; do
  v=$(dpkg-query -W -f '${Status} ${Version}' "$p" 2>/dev/null || true)
  case $v in
    "install ok installed "*) dpkg --compare-versions "${v##* }" ge "$ANDROID_RUST_MIN" || missing_android+=("$p") ;;
    *) missing_android+=("$p") ;;
  esac
done

if [ ${#missing[@]} -eq 0 ] && [ ${#missing_android[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} + ${#ANDROID_RUST[@]} packages already installed"
else
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages (${missing[*]}) and not root; run as root" >&2
    exit 1
  fi
  echo "install-deps: installing ${missing[*]} ${missing_android[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # apt's -t bookworm-security needs that suite among the sources; add it if the image lacks it.
  if [ ${#missing_android[@]} -gt 0 ] &&
    ! grep -rqsE '^[^#]*bookworm-security' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    echo 'deb http://deb.debian.org/debian-security bookworm-security main' \
      > /etc/apt/sources.list.d/sipher-bookworm-security.list
  fi
  apt-get update -q
  # The kamailio package would start its system service on install; the tests run their own
  # instance on 127.0.0.1, so block service starts with a temporary policy-rc.d (exit 101 =
  # "action forbidden"). Only remove it if we created it.
  created_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    created_policy=1
  fi
  trap '[ $created_policy = 1 ] && rm -f /usr/sbin/policy-rc.d' EXIT
  # tshark asks whether non-root users may capture; preseed "no" so there is no prompt.
  echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections
  [ ${#missing[@]} -eq 0 ] || apt-get install -y -q --no-install-recommends "${missing[@]}"
  [ ${#missing_android[@]} -eq 0 ] ||
    apt-get install -y -q --no-install-recommends -t bookworm-security "${missing_android[@]}"
fi

# Rust toolchain: installed through rustup on these machines; it is not fetched here.
if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
  export PATH="$HOME/.cargo/bin:$PATH"
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "install-deps: cargo not found (neither on PATH nor in \$HOME/.cargo/bin)." >&2
  echo "install-deps: install the Rust toolchain with rustup (https://rustup.rs) first." >&2
  exit 1
fi
echo "install-deps: $(cargo --version)"
# Debian's toolchain (in /usr/bin) as `cargo +debweb`, for scripts/check-android.sh.
if command -v rustup >/dev/null && ! rustup toolchain list | grep -q "^debweb"; then
  rustup toolchain link debweb /usr
fi
echo "install-deps: android-check toolchain $(cargo +debweb --version)"
# Voice bench (scripts/bench, tests/voice): Python packages for the python3 on PATH, pinned.
# numpy first: pesq's build imports it.
if ! python3 -c 'import numpy, pesq, netfilterqueue' 2>/dev/null; then
  echo "install-deps: pip installing numpy, pesq, NetfilterQueue"
  python3 -m pip install -q numpy==1.26.4
  python3 -m pip install -q pesq==0.0.4 NetfilterQueue==1.1.0
  # libsrtp2 for the SRTP cross-check (core/tests/srtp_libsrtp.rs).
  python3 -m pip install -q pylibsrtp==1.0.0
fi
for tool in kamailio sipp linphonec baresip openssl sox espeak-ng tcpdump tshark ss python3 jq iptables \
  clang ld.lld llvm-ar; do
  command -v "$tool" >/dev/null 2>&1 || { echo "install-deps: $tool missing after install" >&2; exit 1; }
done
echo "install-deps: ok"
