#!/bin/sh
# Installs the Tributary service of this release (the edge agent or the cloud processor) on a
# Debian or Raspberry Pi OS machine with systemd. Run from the unpacked release:
#
#   sudo ./install.sh [--node PATH] [--no-start]
#   ./install.sh --root DIR [--node PATH]    lays it all out under DIR instead of / (an image, a test)
#
# It creates the system user (systemd-sysusers, from service/*.sysusers), copies the compiled
# service with its production dependencies to /opt/<service>, puts the example config at
# /etc/tributary/<name>.yaml unless one is there (it never overwrites a config), creates the state
# directory, installs the systemd unit with this machine's node in ExecStart, enables it and
# (re)starts it. Running it again upgrades in place.
set -eu

usage() {
  sed -n '2,14s/^# \{0,1\}//p' "$0"
}
fail() {
  echo "install.sh: $*" >&2
  exit 1
}

here=$(cd "$(dirname "$0")" && pwd)
root=
node=
start=yes
while [ $# -gt 0 ]; do
  case $1 in
    --root) [ $# -ge 2 ] || fail "--root needs a directory"; root=$2; shift 2 ;;
    --root=*) root=${1#--root=}; shift ;;
    --node) [ $# -ge 2 ] || fail "--node needs a path"; node=$2; shift 2 ;;
    --node=*) node=${1#--node=}; shift ;;
    --no-start) start=no; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "install.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done
if [ -n "$root" ]; then
  mkdir -p "$root"
  root=$(cd "$root" && pwd)
  [ "$root" != / ] || root=
elif [ "$(id -u)" -ne 0 ]; then
  fail "run it as root: sudo $0"
fi

unit=$(ls "$here"/service/*.service)
name=$(basename "$unit" .service)
sysusers="$here/service/$name.sysusers"
example=$(ls "$here"/service/*.example.yaml)
config=/etc/tributary/$(basename "$example" .example.yaml).yaml
user=$(awk '$1 == "u" { print $2; exit }' "$sysusers")
state=/var/lib/$(sed -n 's/^StateDirectory=//p' "$unit")
app=/opt/$name

# Node.js: the one given, else the one on PATH; it must be at least what package.json's engines say.
node=${node:-$(command -v node || true)}
minimum=$(sed -n 's/.*"node": *">=\([0-9.]*\)".*/\1/p' "$here/package.json")
if [ -z "$node" ] || ! "$node" -e '
  const [want, have] = [process.argv[1], process.versions.node].map((v) => v.split(".").map(Number));
  const cmp = have[0] - want[0] || have[1] - want[1] || have[2] - want[2];
  process.exit(cmp >= 0 ? 0 : 1);' "$minimum" 2>/dev/null; then
  cat >&2 <<MSG
install.sh: $name needs Node.js $minimum or newer; ${node:-no node is on PATH}${node:+ is $("$node" --version 2>/dev/null | head -n 1)}.
Raspberry Pi OS Bookworm ships Node.js 18. Install an official build from nodejs.org, e.g.:
  64-bit: curl -fsSL https://nodejs.org/dist/v20.20.2/node-v20.20.2-linux-arm64.tar.xz | sudo tar -xJ -C /usr/local --strip-components=1
  32-bit: curl -fsSL https://nodejs.org/dist/v20.20.2/node-v20.20.2-linux-armv7l.tar.xz | sudo tar -xJ -C /usr/local --strip-components=1
or name one with --node PATH.
MSG
  exit 1
fi
case $node in /*) ;; *) node=$(cd "$(dirname "$node")" && pwd)/$(basename "$node") ;; esac
# Loading every module (the serial binding's prebuilt binary for this CPU among them) before
# anything is changed: a release that cannot run here stops the install.
"$node" "$here/dist/cli.js" --help >/dev/null || fail "$name does not start with $node (see the error above); nothing was changed"

echo "Installing $name $(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$here/package.json") for $node ($("$node" --version))${root:+ under $root}"

# The system user (and its groups), as sysusers.d(5) describes it.
install -D -m 0644 "$sysusers" "$root/etc/sysusers.d/$name.conf"
if [ -n "$root" ]; then systemd-sysusers --root="$root" "$root/etc/sysusers.d/$name.conf"; else systemd-sysusers "/etc/sysusers.d/$name.conf"; fi
uid=$(awk -F: -v u="$user" '$1 == u { print $3 }' "$root/etc/passwd")
gid=$(awk -F: -v u="$user" '$1 == u { print $4 }' "$root/etc/passwd")
[ -n "$uid" ] || fail "systemd-sysusers did not create the user $user"
echo "  user       $user ($(awk -F: -v u="$user" '$4 ~ "(^|,)" u "(,|$)" { printf "%s%s", sep, $1; sep = "," }' "$root/etc/group" | sed 's/^/groups: /'))"

# The code: a fresh copy beside the old one, then swapped in.
mkdir -p "$root/opt"
rm -rf "$root$app.new" "$root$app.old"
mkdir "$root$app.new"
cp -R "$here/package.json" "$here/dist" "$here/node_modules" "$root$app.new/"
# The cloud processor's dashboard files (plain HTML and ES modules).
if [ -d "$here/public" ]; then cp -R "$here/public" "$root$app.new/"; fi
chmod -R u=rwX,go=rX "$root$app.new"
if [ -e "$root$app" ]; then mv "$root$app" "$root$app.old"; fi
mv "$root$app.new" "$root$app"
rm -rf "$root$app.old"
echo "  code       $app"

# The config: readable by the service's group only (it may hold passwords); never overwritten.
install -d -m 0755 "$root/etc/tributary"
if [ -e "$root$config" ]; then
  echo "  config     $config (kept)"
else
  install -m 0640 -o 0 -g "$gid" "$example" "$root$config"
  echo "  config     $config (the example: edit it)"
fi
install -d -m 0750 -o "$uid" -g "$gid" "$root$state"
echo "  state      $state"

# The unit, with this node and this code in ExecStart.
install -d -m 0755 "$root/etc/systemd/system"
sed -e "s|@NODE@|$node|g" -e "s|@APP@|$app|g" "$unit" >"$root/etc/systemd/system/$name.service.new"
chmod 0644 "$root/etc/systemd/system/$name.service.new"
mv "$root/etc/systemd/system/$name.service.new" "$root/etc/systemd/system/$name.service"
if [ -n "$root" ]; then
  systemctl --root="$root" enable "$name.service"
  echo "  unit       /etc/systemd/system/$name.service (enabled)"
  exit 0
fi
systemctl daemon-reload
systemctl enable "$name.service"
echo "  unit       /etc/systemd/system/$name.service (enabled)"
if [ "$start" = yes ]; then
  systemctl restart "$name.service"
  echo "Started. Logs: journalctl -u $name -f    Status: systemctl status $name"
else
  echo "Start it with: sudo systemctl start $name"
fi
