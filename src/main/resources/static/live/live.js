// The live page: a widget's delayed events counting down, and its live stream, asked of
// the gateway's API with the widget's token. The token lives in this script's memory only:
// never in storage, a cookie or the address, and it is forgotten on "Stop".
'use strict';

(() => {
  const POLL_MS = 1000;
  const GONE_MS = 5000;
  const RESTART_JUMP_MS = 750;
  const STREAM_LIMIT = 100;
  const RECONNECT_MS = 2000;

  const $ = (id) => document.getElementById(id);
  const rows = new Map();
  let token = null;
  let session = 0;
  let pollTimer = null;
  let streamAbort = null;
  let lastEventId = null;

  function status(text, kind) {
    const line = $('status');
    line.textContent = text;
    line.className = kind || '';
  }

  async function api(path, init) {
    const response = await fetch(path, {
      ...init,
      headers: { Authorization: 'Bearer ' + token, ...((init && init.headers) || {}) },
      cache: 'no-store',
    });
    if (!response.ok) {
      let detail = response.status + ' ' + response.statusText;
      try {
        const problem = await response.json();
        detail = problem.detail || problem.title || detail;
      } catch (ignored) {
        // not a problem document
      }
      const error = new Error(detail);
      error.status = response.status;
      throw error;
    }
    return response;
  }

  async function connect(event) {
    event.preventDefault();
    const input = $('token');
    const entered = input.value.trim();
    input.value = '';
    if (!entered) {
      return;
    }
    stop();
    token = entered;
    const mine = ++session;
    status('Connecting…');
    try {
      const widget = await (await api('/v1/widget')).json();
      if (mine !== session) {
        return;
      }
      status('Watching widget ' + widget.widget_id + ' in ' + widget.room_id + '.', 'connected');
      $('connect-button').hidden = true;
      $('disconnect').hidden = false;
      poll(mine);
      stream(mine);
    } catch (error) {
      if (mine === session) {
        token = null;
        status(error.status === 401 ? 'That is not the token of a widget of this gateway.' : 'Could not connect: '
          + error.message, 'error');
      }
    }
  }

  function stop() {
    session++;
    token = null;
    lastEventId = null;
    clearTimeout(pollTimer);
    if (streamAbort) {
      streamAbort.abort();
      streamAbort = null;
    }
    rows.forEach((row) => row.element.remove());
    rows.clear();
    $('stream').replaceChildren();
    $('delayed-empty').hidden = false;
    $('stream-empty').hidden = false;
    $('connect-button').hidden = false;
    $('disconnect').hidden = true;
  }

  async function poll(mine) {
    try {
      const listing = await (await api('/v1/delayed_events')).json();
      if (mine !== session) {
        return;
      }
      update(listing.delayed_events || []);
    } catch (error) {
      if (mine !== session) {
        return;
      }
      if (error.status === 401) {
        status('The gateway no longer takes this token.', 'error');
        stop();
        return;
      }
      status('Could not list the delayed events: ' + error.message, 'error');
    }
    pollTimer = setTimeout(() => poll(mine), POLL_MS);
  }

  function update(events) {
    const now = performance.now();
    const listed = new Set();
    for (const event of events) {
      listed.add(event.delay_id);
      const dueAt = now + event.remaining_ms;
      let row = rows.get(event.delay_id);
      if (!row) {
        row = newRow(event);
        rows.set(event.delay_id, row);
        $('delayed').append(row.element);
      } else if (!row.gone && dueAt > row.dueAt + RESTART_JUMP_MS) {
        row.restarts++;
        row.element.classList.add('restarted');
        row.element.dataset.restarts = String(row.restarts);
        setTimeout(() => row.element.classList.remove('restarted'), 600);
        row.note.textContent = 'restarted ' + row.restarts + '×';
      }
      row.dueAt = dueAt;
      row.delay = event.delay_ms;
    }
    rows.forEach((row, delayId) => {
      if (!listed.has(delayId) && !row.gone) {
        row.gone = true;
        row.element.classList.add('gone');
        row.element.dataset.gone = 'true';
        row.note.textContent = 'gone: sent, fired or cancelled';
        setTimeout(() => {
          row.element.remove();
          rows.delete(delayId);
          $('delayed-empty').hidden = rows.size > 0;
        }, GONE_MS);
      }
    });
    $('delayed-empty').hidden = rows.size > 0;
  }

  function newRow(event) {
    const element = document.createElement('li');
    element.dataset.delayId = event.delay_id;
    element.dataset.restarts = '0';
    const what = document.createElement('div');
    what.className = 'what';
    const type = document.createElement('span');
    type.className = 'type';
    type.textContent = event.type + (event.state_key !== undefined ? ' · ' + event.state_key : '');
    const remaining = document.createElement('span');
    remaining.className = 'remaining';
    what.append(type, remaining);
    const detail = document.createElement('div');
    detail.className = 'detail';
    const note = document.createElement('span');
    note.textContent = 'scheduled';
    detail.append(event.room_id + ' · delay ' + (event.delay_ms / 1000) + ' s · ', note);
    const bar = document.createElement('div');
    bar.className = 'bar';
    const fill = document.createElement('div');
    bar.append(fill);
    element.append(what, detail, bar);
    return { element, remaining, note, fill, dueAt: 0, delay: event.delay_ms, restarts: 0, gone: false };
  }

  function render() {
    const now = performance.now();
    rows.forEach((row) => {
      if (row.gone) {
        return;
      }
      const left = Math.max(0, row.dueAt - now);
      row.remaining.textContent = (left / 1000).toFixed(1) + ' s';
      row.remaining.dataset.remainingMs = String(Math.round(left));
      row.remaining.classList.toggle('soon', left < 3000);
      row.fill.style.width = (row.delay > 0 ? Math.min(100, (100 * left) / row.delay) : 0) + '%';
    });
    requestAnimationFrame(render);
  }

  async function stream(mine) {
    streamAbort = new AbortController();
    const headers = { Accept: 'text/event-stream' };
    if (lastEventId) {
      headers['Last-Event-ID'] = lastEventId;
    }
    try {
      const response = await api('/v1/events', { headers, signal: streamAbort.signal });
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      let fields = {};
      for (;;) {
        const { value, done } = await reader.read();
        if (done || mine !== session) {
          break;
        }
        buffer += value;
        let newline;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, newline).replace(/\r$/, '');
          buffer = buffer.slice(newline + 1);
          if (line === '') {
            if (fields.data !== undefined) {
              received(fields);
            }
            fields = {};
          } else if (!line.startsWith(':')) {
            const colon = line.indexOf(':');
            const name = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            fields[name] = fields[name] === undefined ? value : fields[name] + '\n' + value;
          }
        }
      }
    } catch (error) {
      if (mine !== session || error.name === 'AbortError') {
        return;
      }
      if (error.status === 401) {
        status('The gateway no longer takes this token.', 'error');
        stop();
        return;
      }
    }
    if (mine === session) {
      setTimeout(() => stream(mine), RECONNECT_MS);
    }
  }

  function received(fields) {
    if (fields.id) {
      lastEventId = fields.id;
    }
    let envelope;
    try {
      envelope = JSON.parse(fields.data);
    } catch (ignored) {
      return;
    }
    const item = document.createElement('li');
    item.dataset.action = fields.event || envelope.action || 'message';
    const time = document.createElement('span');
    time.className = 'time';
    time.textContent = new Date().toLocaleTimeString();
    const action = document.createElement('span');
    action.className = 'action';
    action.textContent = fields.event || envelope.action;
    const detail = document.createElement('span');
    detail.className = 'detail';
    detail.textContent = describe(fields.event, envelope);
    item.append(time, action, detail);
    $('stream').prepend(item);
    while ($('stream').children.length > STREAM_LIMIT) {
      $('stream').lastElementChild.remove();
    }
    $('stream-empty').hidden = true;
  }

  function describe(name, envelope) {
    const data = envelope.data || {};
    if (name === 'error') {
      return (envelope.errcode || '') + ' ' + (envelope.error || '');
    }
    if (Array.isArray(data.state)) {
      return data.state.length + ' state event' + (data.state.length === 1 ? '' : 's')
        + data.state.map((event) => ' · ' + event.type + ' ' + JSON.stringify(event.content)).join('');
    }
    if (data.type) {
      return data.type + (data.state_key !== undefined ? ' · ' + data.state_key : '') + ' from ' + data.sender
        + (data.msc4354_sticky ? ' · sticky' : '') + ' · ' + JSON.stringify(data.content);
    }
    if (data.approved) {
      return 'approved: ' + data.approved.join(', ');
    }
    return 'the host asks for the widget\'s capabilities';
  }

  $('connect').addEventListener('submit', connect);
  $('disconnect').addEventListener('click', () => {
    stop();
    status('Stopped; the token is forgotten.');
  });
  requestAnimationFrame(render);
})();
