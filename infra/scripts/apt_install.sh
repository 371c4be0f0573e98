# Sourced by the ensure_*.sh scripts: install one Debian package with apt-get, as root or through sudo.
# apt_install PACKAGE LABEL: the package index is refreshed only when the install needs it.
apt_install() {
  local package="$1" label="$2"
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "$package is missing and apt-get is not available: install $label by hand" >&2
    exit 1
  fi
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "installing $package with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  # Another install (a second checkout's `make`) may hold dpkg's lock: wait for it rather than fail.
  local wait=(-o DPkg::Lock::Timeout=600)
  $SUDO apt-get "${wait[@]}" install -y -qq "$package" >/dev/null \
    || { $SUDO apt-get "${wait[@]}" update -qq && $SUDO apt-get "${wait[@]}" install -y -qq "$package" >/dev/null; }
}
