// autopull dashboard: the live parts. Plain script, no framework, nothing from elsewhere.
// It reads the pages' data- attributes; text from outside only ever goes in as textContent.
// The API is called with the session cookie; changes carry the X-CSRF-Token header.
(function () {
  'use strict';

  var STATE_CLASS = { succeeded: 'ok', ok: 'ok', live: 'ok', running: 'run', queued: 'wait', failed: 'bad', crashed: 'bad', diverged: 'warn', interrupted: 'warn', skipped: 'idle', ignored: 'idle', done: 'ok' };
  var FINAL = ['succeeded', 'failed', 'skipped', 'interrupted', 'ignored'];

  function $(sel, root) {
    return (root || document).querySelector(sel);
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function badge(state) {
    var b = el('span', 'badge b-' + (STATE_CLASS[state] || 'idle'), state);
    b.setAttribute('data-state', state);
    return b;
  }

  // As format.ts between(): "850 ms", "1.2 s", "3 min 4 s".
  function between(from, to) {
    var ms = Date.parse(to) - Date.parse(from);
    if (!(ms >= 0)) return '';
    if (ms < 1000) return ms + ' ms';
    if (ms < 60000) return (ms / 1000).toFixed(1) + ' s';
    return Math.floor(ms / 60000) + ' min ' + Math.round((ms % 60000) / 1000) + ' s';
  }

  function csrf() {
    var m = $('meta[name="csrf-token"]');
    return m ? m.getAttribute('content') : '';
  }

  function setLive(text) {
    var s = $('#live-status');
    if (s) s.textContent = text;
  }

  // ---- pages that refresh on events (overview, deliveries) ---------------------------

  function refreshing(main) {
    var timer = null;
    var busy = false;
    function refresh() {
      timer = null;
      var active = document.activeElement;
      // Never pull the page from under someone using a form on it, or with a confirmation open.
      if (busy || (active && active.closest && active.closest('main form')) || main.querySelector('details[open]')) return;
      busy = true;
      fetch(location.href, { headers: { accept: 'text/html' }, credentials: 'same-origin' })
        .then(function (res) {
          return res.ok ? res.text() : null;
        })
        .then(function (text) {
          if (text === null) return;
          var next = new DOMParser().parseFromString(text, 'text/html').getElementById('main');
          if (next) main.replaceChildren.apply(main, Array.prototype.map.call(next.childNodes, function (n) { return document.importNode(n, true); }));
        })
        .catch(function () {})
        .then(function () {
          busy = false;
        });
    }
    function soon() {
      if (timer === null) timer = setTimeout(refresh, 500);
    }
    var es = new EventSource('/api/events');
    es.onopen = function () {
      setLive('live');
    };
    es.onerror = function () {
      setLive(es.readyState === EventSource.CLOSED ? 'not live: reload the page' : 'reconnecting…');
    };
    es.addEventListener('job', soon);
    es.addEventListener('delivery', soon);
    es.addEventListener('reset', soon);
  }

  // ---- the job page: steps and the live log -------------------------------------------

  function follower(section) {
    var id = section.getAttribute('data-job');
    var last = Number(section.getAttribute('data-after') || '0');
    var log = $('#log');
    var steps = $('#steps');
    var status = $('#log-status');
    var es = null;
    var ended = false;

    function say(text) {
      setLive(text);
      if (status) status.textContent = '(' + text + ')';
    }

    function addStep(name) {
      var none = $('#no-steps');
      if (none) none.remove();
      var li = el('li');
      li.setAttribute('data-step', name);
      li.setAttribute('data-state', 'running');
      li.append(badge('running'), ' ' + name);
      steps.append(li);
    }

    function stepDone(line) {
      var open = steps.querySelectorAll('li[data-state="running"]');
      for (var i = open.length - 1; i >= 0; i--) {
        var name = open[i].getAttribute('data-step');
        var prefix = name + ': done in ';
        if (line.indexOf(prefix) === 0) {
          open[i].setAttribute('data-state', 'done');
          open[i].replaceChildren(badge('succeeded'), ' ' + name + ' ', el('span', 'muted', line.slice(prefix.length)));
          return;
        }
      }
    }

    function append(l) {
      var atEnd = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
      var span = el('span', 'ln s-' + l.stream);
      span.setAttribute('data-seq', String(l.seq));
      span.append(el('span', 'ts', l.ts.slice(11, 19) + ' '), l.line + '\n');
      log.append(span);
      if (atEnd) log.scrollTop = log.scrollHeight;
      if (l.stream === 'step') addStep(l.line);
      else if (l.stream === 'info') stepDone(l.line);
    }

    function state(job) {
      section.setAttribute('data-state', job.state);
      var s = $('#job-state');
      if (s) s.replaceChildren(badge(job.state));
      var r = $('#job-reason');
      if (r) {
        r.textContent = job.reason || '';
        r.classList.toggle('bad', job.state === 'failed');
      }
      var took = $('#job-took');
      if (took && job.started_at && job.finished_at) took.textContent = between(job.started_at, job.finished_at);
      if (job.release) {
        var rel = $('#job-release');
        if (rel) rel.textContent = job.release;
      }
      if (job.target_sha) {
        var sha = $('#job-sha');
        if (sha) sha.replaceChildren(el('code', '', job.target_sha.slice(0, 7)));
      }
      if (FINAL.indexOf(job.state) !== -1) {
        var open = steps.querySelectorAll('li[data-state="running"]');
        for (var i = 0; i < open.length; i++) {
          open[i].setAttribute('data-state', 'failed');
          open[i].replaceChildren(badge('failed'), ' ' + open[i].getAttribute('data-step'));
        }
      }
    }

    function connect() {
      // The first connection starts after the lines in the page; EventSource's own
      // reconnects send Last-Event-ID (the last line's seq), which the server prefers.
      es = new EventSource('/api/jobs/' + encodeURIComponent(id) + '/events?after=' + last);
      es.onopen = function () {
        say('live');
      };
      es.addEventListener('log', function (e) {
        var l = JSON.parse(e.data);
        if (l.seq <= last) return;
        last = l.seq;
        append(l);
      });
      es.addEventListener('state', function (e) {
        state(JSON.parse(e.data));
      });
      es.addEventListener('end', function (e) {
        ended = true;
        es.close();
        state({ state: JSON.parse(e.data).state, reason: $('#job-reason') ? $('#job-reason').textContent : '' });
        say('ended');
      });
      es.onerror = function () {
        if (ended) return;
        if (es.readyState === EventSource.CLOSED) {
          // Refused (503 at the cap, say): try again ourselves, from the last line we have.
          say('reconnecting…');
          setTimeout(connect, 3000);
        } else {
          say('reconnecting…');
        }
      };
    }
    connect();
  }

  // ---- the simulate form --------------------------------------------------------------

  function simulator(form) {
    var repo = form.getAttribute('data-simulate');
    var out = $('#simulate-error');
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var button = $('button[type="submit"]', form);
      button.disabled = true;
      var body = JSON.stringify({ sender: form.elements.sender.value, ref: form.elements.ref.value.trim() });
      fetch('/api/repos/' + encodeURIComponent(repo) + '/simulate', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json', 'x-csrf-token': csrf() },
        body: body,
      })
        .then(function (res) {
          return res.json();
        })
        .then(function (answer) {
          if (answer.jobs && answer.jobs.length > 0) return location.assign('/jobs/' + answer.jobs[0]);
          if (answer.ledger_id) return location.assign('/deliveries/' + answer.ledger_id);
          out.textContent = answer.message || 'the simulated push was refused';
          out.hidden = false;
          out.focus();
        })
        .catch(function (err) {
          out.textContent = 'could not reach autopull: ' + err.message;
          out.hidden = false;
        })
        .then(function () {
          button.disabled = false;
        });
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    var main = $('main[data-live="refresh"]');
    if (main) refreshing(main);
    var job = $('#job[data-job]');
    if (job) follower(job);
    var form = $('form[data-simulate]');
    if (form) simulator(form);
  });
})();
