# shellcheck shell=bash
# Helpers shared by the scripts in this folder; source it, do not run it.

# A free TCP port on the loopback interface.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# An organizer's API token: signs in at BASE_URL with EMAIL and PASSWORD.
organizer_token() {
  python3 - "$1" "$2" "$3" <<'PY'
import json, sys, urllib.request
base, email, password = sys.argv[1:4]
body = json.dumps({"email": email, "password": password}).encode()
request = urllib.request.Request(base.rstrip("/") + "/api/v1/auth/login", body, {"content-type": "application/json"})
print(json.load(urllib.request.urlopen(request, timeout=10))["token"])
PY
}
