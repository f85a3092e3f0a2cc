// The dashboard's only script: it listens to the daemon's live feed (/v1/events,
// server-sent events) and, when anything happens, fetches the page's body again
// (/ui/main, rendered by the daemon) and puts it in place. No framework, no build.
(function () {
	'use strict';
	var main = document.getElementById('main');
	var live = document.getElementById('live');
	var timer = null, busy = false, again = false, refreshes = 0;

	function state(on, text) {
		live.textContent = text;
		live.className = 'live ' + (on ? 'on' : 'off');
		document.body.dataset.live = on ? 'on' : 'off';
	}

	function refresh() {
		timer = null;
		if (busy) {
			again = true;
			return;
		}
		busy = true;
		fetch('/ui/main', { credentials: 'same-origin', cache: 'no-store' })
			.then(function (r) {
				if (r.status === 401) {
					window.location.href = '/login';
					throw new Error('logged out');
				}
				if (!r.ok)
					throw new Error('HTTP ' + r.status);
				return r.text();
			})
			.then(function (html) {
				// A half-typed comment survives: skip while a field has focus.
				var f = document.activeElement;
				if (f && f.tagName === 'INPUT' && main.contains(f)) {
					again = true;
					return;
				}
				main.innerHTML = html;
				refreshes++;
				document.body.dataset.refreshes = String(refreshes);
			})
			.catch(function () { })
			.then(function () {
				busy = false;
				if (again) {
					again = false;
					schedule(1000);
				}
			});
	}

	function schedule(ms) {
		if (timer === null)
			timer = setTimeout(refresh, ms);
	}

	var es = new EventSource('/v1/events');
	es.addEventListener('hello', function () { state(true, 'live'); });
	['machine', 'deploy', 'incident', 'action'].forEach(function (type) {
		es.addEventListener(type, function () { schedule(150); });
	});
	es.onerror = function () { state(false, 'reconnecting…'); };
	// Latency comes from request logs, which send no events: look again now and then.
	setInterval(function () { schedule(0); }, 10000);
}());
