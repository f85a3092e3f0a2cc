# Sourced after daemon.sh by deploy tests: an app that runs from its artifact, three
# artifacts (good, crash at start, failing health after cutover), and a client that
# counts every answer while deploys run.

# make_artifact NAME VERSION FLAGS...: a release folder whose start.sh runs the demo app.
make_artifact() {
	local dir="$T/$1" version=$2; shift 2
	mkdir -p "$dir"
	printf '#!/bin/sh\nexec "%s" --app-version "$(cat VERSION)" %s "$@"\n' \
	    "$DEMO_APP" "$*" > "$dir/start.sh"
	chmod +x "$dir/start.sh"
	echo "$version" > "$dir/VERSION"
}
make_artifact good good-build
make_artifact crash crash-build --exit-at-start 1
make_artifact late late-build --fail-health-after 1.5

# write_app_config [EXTRA_APP_LINE]: one app, web from the release, fast timings
# (a test that only needs the steps, not the time between them, may shorten them
# with DEPLOY_SMOKE, DEPLOY_WATCH and HEALTH_GRACE).
write_app_config() {
	cat > "$CONFIG" <<YAML
ports: {from: ${DEPLOY_PORTS:-25200}, to: $(( ${DEPLOY_PORTS:-25200} + 99 ))}
defaults:
  health: {path: /health, interval: 200ms, timeout: 500ms, grace: ${HEALTH_GRACE:-1s}}
apps:
  web-app:
    env: {DEMO_SHOW_ENV: "API_KEY"}
    deploy: {smoke: ${DEPLOY_SMOKE:-1s}, watch: ${DEPLOY_WATCH:-2s}, timeout: 10s}
    ${1:-}
    processes:
      web:
        command: ["\${OPSDECK_RELEASE_DIR}/start.sh"]
        port: auto
YAML
}

release_q() { od release web-app "$1" --json | jq -r "$2"; }
# watch_end: waits until no release is in its watch window (the deploy lock is
# released once the watch ends and the old release's machines are retired).
no_deploy_lock() { [ "$(sqlite3 "$STATE/opsdeck.db" "SELECT count(*) FROM deploy_locks")" = 0 ]; }
watch_end() { wait_for "${1:-30}" no_deploy_lock || fail "the watch window did not end"; }
# The port of a started machine of the live release.
live_port() {
	local rel
	rel=$(status_q '.apps[0].release')
	machines_q "[.machines[] | select(.release==\"$rel\" and .state==\"started\")][0].port"
}
served_version() {
	[ "$(curl -fsS "http://127.0.0.1:$(live_port)/version" | jq -r .version)" = "$1" ]
}

# The client: resolves the live release's port for every request, as a router would.
client_start() {
	rm -f "$T/client.stop" "$T/client.log"
	(
		while [ ! -e "$T/client.stop" ]; do
			p=$(live_port 2>/dev/null)
			if [ -z "$p" ] || [ "$p" = null ]; then sleep 0.05; continue; fi
			if code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
			    "http://127.0.0.1:$p/api/orders"); then
				echo "$code $p" >> "$T/client.log"
			else
				echo "fail $p" >> "$T/client.log"
			fi
		done
	) &
	CLIENT_PID=$!
}

client_stop() {
	touch "$T/client.stop"
	wait "$CLIENT_PID" 2>/dev/null || true
	CLIENT_OK=$(grep -c '^200 ' "$T/client.log" || true)
	CLIENT_BAD=$(grep -vc '^200 ' "$T/client.log" || true)
}
