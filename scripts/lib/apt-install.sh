# Sourced by the setup scripts: installs one Debian package through apt-get,
# as root or with sudo, saying why first.
#   apt_install PACKAGE "what it is for"
apt_install() {
  echo "setup: installing Debian's $1 for $2 (first time only)"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$1"
}
