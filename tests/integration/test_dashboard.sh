#!/bin/bash
# The dashboard: its browser tests (tests/e2e/dashboard.mjs: headless chromium via
# playwright-core) on a fleet of a staging and a production app, then what a browser
# or anyone else may send it that is wrong: no session, a bad form, a forged or
# missing CSRF token, another site's Origin, unknown pages, path tricks. Screenshots
# are kept in $OPSDECK_BUILD/test-artifacts/dashboard.
. "$(dirname "$0")/../lib/daemon.sh"
DEPLOY_PORTS=26700
. "$(dirname "$0")/../lib/deploy.sh"
ADDR=127.0.0.1:26790
PUB=127.0.0.1:26791	# web-app through HAProxy: its requests give the latency section
ODC="$OPSDECK --state $STATE"	# for bash -c, where od is not a function
cat > "$CONFIG" <<YAML
ports: {from: 26700, to: 26789}
api: {listen: $ADDR}
defaults:
  health: {path: /health, interval: 200ms, timeout: 500ms, grace: 1s}
apps:
  web-app:
    stage: staging
    deploy: {smoke: 8s, watch: 500ms, timeout: 30s}
    routes: ["/api/tiles/:id"]
    processes:
      web: {command: ["\${OPSDECK_RELEASE_DIR}/start.sh"], port: auto, public: $PUB}
  shop:
    stage: production
    deploy: {smoke: 300ms, watch: 300ms, timeout: 20s}
    processes:
      web: {command: ["\${OPSDECK_RELEASE_DIR}/start.sh"], port: auto}
heartbeats:
  nightly: {period: 1h, grace: 10m}
YAML
start_daemon
od actor add bot --role agent > "$T/bot"
od actor add carol --role approver > "$T/carol"
od actor add olga --role operator > "$T/olga"
BROWSER_DIR="$(dirname "$0")/../e2e"
ARTIFACTS="$OPSDECK_BUILD/test-artifacts/dashboard"
rm -rf "$ARTIFACTS"
[ -d "$BROWSER_DIR/node_modules/playwright-core" ] ||
    die "playwright-core is not installed: run scripts/install-deps"
ADDR=$ADDR OPSDECK=$OPSDECK STATE=$STATE ARTIFACT="$T/good" ARTIFACTS=$ARTIFACTS \
    APPROVER_TOKEN=$(cat "$T/carol") AGENT_TOKEN=$(cat "$T/bot") \
    node "$BROWSER_DIR/dashboard.mjs" > "$T/browser.out" 2>&1 && rc=0 || rc=$?
cat "$T/browser.out"
check "the browser tests pass" test "$rc" = 0
check "and left their screenshots" test -s "$ARTIFACTS/06-approved.png"
od evidence --json --limit 1000 > "$T/ev.json"
check "the grant is in evidence as via dashboard, by carol" jq -e \
    '[.entries[] | select(.action == "approval.grant" and .actor == "carol" and .via == "dashboard" and .outcome == "ok")] | length == 1' "$T/ev.json"
check "the deploy it granted ran once, as the agent" test \
    "$(od releases shop --json | jq '[.releases[] | select(.actor == "bot")] | length')" = 1

code() { curl -s -o "$T/body" -w '%{http_code}' --max-time 5 "$@"; }
login() { # login NAME: a cookie jar in $T/jar.NAME, with the token in $T/NAME
	curl -s -o /dev/null -c "$T/jar.$1" --data-urlencode "token=$(cat "$T/$1")" \
	    "http://$ADDR/login"
}

# Requests through the router fill the per-route latency section (an SVG per route).
for i in $(seq 20); do curl -s -o /dev/null "http://$PUB/api/tiles/$i"; done
login carol
has_chart() { curl -s -b "$T/jar.carol" "http://$ADDR/ui/main" > "$T/main.html" &&
	grep -q '<svg class="lat"' "$T/main.html"; }
check "per-route latency shows as an SVG chart" wait_for 20 has_chart
check "for the route template, with its quantiles" bash -c \
    "grep -o '<section id=\"routes\">.*</section>' '$T/main.html' | grep -q '/api/tiles/:id' &&
     grep -q 'aria-label=\"p50 [0-9.]* ms, p95 [0-9.]* ms, p99 [0-9.]* ms\"' '$T/main.html'"

# ---- what is wrong --------------------------------------------------------------
check "/ without a session: 303 to /login" test \
    "$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "http://$ADDR/")" = "303 http://$ADDR/login"
check "/ui/main without a session: 401" test "$(code "http://$ADDR/ui/main")" = 401
check "a login without a token field: 400" test "$(code -d 'tokn=x' "http://$ADDR/login")" = 400
check "saying what to give" grep -q "give a token" "$T/body"
check "a login with a bad %-escape: 400" test "$(code -d 'token=%zz' "http://$ADDR/login")" = 400
check "a login with an unknown token: 401" test "$(code -d 'token=odt_nope' "http://$ADDR/login")" = 401
check "a login body over 1 MiB: 413" bash -c \
    "head -c 1100000 /dev/zero | tr '\\0' a > '$T/big'; [ \$(curl -s -o /dev/null -w '%{http_code}' --data-binary @'$T/big' http://$ADDR/login) = 413 ]"
login olga
check "the operator logs in" grep -q opsdeck_session "$T/jar.olga"
csrf=$(curl -s -b "$T/jar.olga" "http://$ADDR/" | grep -o 'name="csrf" value="[0-9a-f]*"' | head -1 | grep -o '[0-9a-f]\{64\}')
check "the page carries a CSRF token" test ${#csrf} = 64
inc=$(od incidents --json | jq -r '.incidents[0].id')
check "an ack without the CSRF token: 403" test "$(code -b "$T/jar.olga" -X POST "http://$ADDR/ui/incidents/$inc/ack")" = 403
check "an ack with another session's token: 403" test "$(code -b "$T/jar.olga" -d "csrf=$(printf '%064d' 0)" "http://$ADDR/ui/incidents/$inc/ack")" = 403
check "an ack from another site's Origin: 403" test "$(code -b "$T/jar.olga" -H 'Origin: http://evil.example' -d "csrf=$csrf" "http://$ADDR/ui/incidents/$inc/ack")" = 403
check "the incident is still unacknowledged" test "$(od incidents --json | jq -r ".incidents[] | select(.id == $inc) | .acked_by")" = null
check "an ack with it: 303 back to the page" test "$(code -b "$T/jar.olga" -d "csrf=$csrf" "http://$ADDR/ui/incidents/$inc/ack")" = 303
od evidence --json --limit 1000 > "$T/ev.json"
check "acknowledged by olga, via dashboard" jq -e \
    '[.entries[] | select(.action == "incident.ack" and .actor == "olga" and .via == "dashboard" and .outcome == "ok")] | length == 1' "$T/ev.json"
check "the page says so once" bash -c "curl -s -b '$T/jar.olga' http://$ADDR/ui/main | grep -q 'incident #$inc acknowledged' && ! curl -s -b '$T/jar.olga' http://$ADDR/ui/main | grep -q 'acknowledged</p>'"
check "the operator may not approve: the gate's refusal is the page's message" bash -c \
    "curl -s -o /dev/null -b '$T/jar.olga' -d 'csrf=$csrf' http://$ADDR/ui/approvals/1/approve; curl -s -b '$T/jar.olga' http://$ADDR/ui/main | grep -q 'approval #1: operator &#39;olga&#39; may not approval.grant'"
check "an unknown dashboard action: 404" test "$(code -b "$T/jar.olga" -d "csrf=$csrf" "http://$ADDR/ui/approvals/1/launch")" = 404
check "an approval id that is not a number: 404" test "$(code -b "$T/jar.olga" -d "csrf=$csrf" "http://$ADDR/ui/approvals/1x/approve")" = 404
check "an unknown page: 404" test "$(code -b "$T/jar.olga" "http://$ADDR/ui/nothing")" = 404
check "a path trick (/ui/../v1/status) is no page: 404" test \
    "$(code --path-as-is -b "$T/jar.olga" "http://$ADDR/ui/../v1/status")" = 404
check "an encoded path trick: 404" test "$(code -b "$T/jar.olga" "http://$ADDR/ui/%2e%2e/%2e%2e/etc/passwd")" = 404
check "PUT on the dashboard: 405" test "$(code -b "$T/jar.olga" -X PUT "http://$ADDR/")" = 405
check "the API with the cookie reads (GET /v1/status)" test "$(code -b "$T/jar.olga" "http://$ADDR/v1/status")" = 200
check "the API with the cookie, changing something without X-CSRF-Token: 403" test \
    "$(code -b "$T/jar.olga" -X POST "http://$ADDR/v1/heartbeats/nightly/ping")" = 403
pings() { od heartbeats --json | jq '.heartbeats[] | select(.name == "nightly") | .pings'; }
before=$(pings)
check "the heartbeat counts its pings" test "$before" -ge 1
check "GET /ping/NAME/fail with only the cookie: 401 (a cookie is for /v1/ only)" test \
    "$(code -b "$T/jar.olga" "http://$ADDR/ping/nightly/fail")" = 401
check "and no ping was recorded" test "$(pings)" = "$before"
check "a login from another site's Origin: 403" test \
    "$(code -H 'Origin: http://evil.example' --data-urlencode "token=$(cat "$T/olga")" "http://$ADDR/login")" = 403
old=$(printf '%064d' 7)
curl -s -o /dev/null -c "$T/jar.fix" -b "opsdeck_session=$old" \
    --data-urlencode "token=$(cat "$T/olga")" "http://$ADDR/login"
check "a session id the browser brought is not adopted at login" bash -c \
    "grep -q opsdeck_session '$T/jar.fix' && ! grep -q '$old' '$T/jar.fix'"
check "the API with the cookie and the X-CSRF-Token header acts" test \
    "$(code -b "$T/jar.olga" -H "X-CSRF-Token: $csrf" -X POST "http://$ADDR/v1/heartbeats/nightly/ping")" = 200
check "a made-up session cookie: 401 on the API" test "$(code -b "opsdeck_session=$(printf '%064d' 1)" "http://$ADDR/v1/status")" = 401
check "pages send a Content-Security-Policy" bash -c \
    "curl -s -D - -o /dev/null -b '$T/jar.olga' http://$ADDR/ | grep -qi \"^content-security-policy: default-src 'none'\""
od heartbeat ping nightly --message '<script>alert(1)</script> & "q"' >/dev/null
curl -s -b "$T/jar.olga" "http://$ADDR/ui/main" > "$T/main.html"
check "text from outside (a heartbeat's message) is escaped in the page" \
    grep -qF '&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;q&quot;' "$T/main.html"
check "and never markup" bash -c "! grep -q '<script>alert' '$T/main.html'"
od actor revoke olga >/dev/null
check "a revoked actor's session ends (401)" test "$(code -b "$T/jar.olga" "http://$ADDR/ui/main")" = 401
check "the daemon is still up" od status >/dev/null
stop_daemon
finish
