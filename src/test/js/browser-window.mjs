// The environment a widget finds in a browser iframe, reduced to what matrix-widget-api and
// matrix-js-sdk touch, with the widget host at the other end of HTTP instead of postMessage:
//
//   window                   globalThis, an EventTarget: its "message" listeners get a
//                            MessageEvent {data, origin} for each message the host sends
//   window.parent            the host's window: postMessage(message, targetOrigin) POSTs a
//                            fromWidget request, or the widget's reply to a toWidget request,
//                            to /v1/transport; the answer to a request comes back as a message
//   (the host's own requests) each server-sent event of /v1/events, dispatched as a message
//
// Nothing here knows a widget-API action: messages pass through as a browser passes them.
// Whatever the bridge sees go wrong on the wire (an HTTP status other than the documented
// one, an error event on the stream) it reports, and then does what a browser would do: the
// message is lost and the widget's own timeout decides.

/** The original fetch, before the widget's own requests are watched. */
const originalFetch = globalThis.fetch.bind(globalThis);

/**
 * Installs the window.
 * @param {object} options
 * @param {string} options.gatewayUrl the gateway's base URL, which is the host's origin
 * @param {string} options.token the widget's token
 * @param {(line: object) => void} options.report where observations go
 * @returns {{origin: string, close: () => void}}
 */
export function installWindow({ gatewayUrl, token, report }) {
    const hostOrigin = new URL(gatewayUrl).origin;
    const transportUrl = new URL("/v1/transport", gatewayUrl).toString();
    const eventsUrl = new URL("/v1/events", gatewayUrl).toString();
    const authorization = `Bearer ${token}`;
    const closing = new AbortController();

    // window: an EventTarget of its own, as globalThis is not one in Node.
    const target = new EventTarget();
    globalThis.addEventListener = target.addEventListener.bind(target);
    globalThis.removeEventListener = target.removeEventListener.bind(target);
    globalThis.dispatchEvent = target.dispatchEvent.bind(target);
    globalThis.window = globalThis;

    const deliver = (data) => {
        // A browser delivers a message as a task of its own, in the order it was posted.
        setTimeout(() => {
            if (!closing.signal.aborted) {
                globalThis.dispatchEvent(new MessageEvent("message", { data, origin: hostOrigin }));
            }
        }, 0);
    };

    const post = async (message) => {
        const isReply = message.api === "toWidget" && message.response !== undefined;
        const summary = { api: message.api, action: message.action, requestId: message.requestId };
        let response;
        try {
            response = await originalFetch(transportUrl, {
                method: "POST",
                headers: { "Authorization": authorization, "Content-Type": "application/json" },
                body: JSON.stringify(message),
                signal: closing.signal,
            });
        } catch (error) {
            if (!closing.signal.aborted) {
                report({ event: "gap", where: "POST /v1/transport", message: summary, error: String(error) });
            }
            return;
        }
        const body = await response.text();
        const expected = isReply ? 204 : 200;
        if (response.status !== expected) {
            report({
                event: "gap",
                where: "POST /v1/transport",
                request: message,
                status: response.status,
                expected,
                body: parseOrText(body),
            });
            return;
        }
        if (!isReply) {
            const answer = JSON.parse(body);
            report({
                event: "transport",
                action: message.action,
                data: message.data,
                response: redacted(answer.response),
            });
            deliver(answer);
        }
    };

    globalThis.parent = {
        postMessage(message, targetOrigin) {
            // The browser's own rule: a message for another origin is not delivered.
            if (targetOrigin !== "*" && targetOrigin !== hostOrigin) {
                report({ event: "dropped", reason: `targetOrigin ${targetOrigin} is not ${hostOrigin}` });
                return;
            }
            // postMessage clones what it is given, so later changes to the object do not travel.
            void post(structuredClone(message));
        },
    };

    void stream({ eventsUrl, authorization, closing, report, deliver });

    return {
        origin: hostOrigin,
        close: () => closing.abort(),
    };
}

/**
 * Reads /v1/events as EventSource does: each event's data is a message from the host; the
 * stream is resumed with Last-Event-ID whenever it ends.
 */
async function stream({ eventsUrl, authorization, closing, report, deliver }) {
    let lastEventId;
    while (!closing.signal.aborted) {
        try {
            const headers = { "Authorization": authorization, "Accept": "text/event-stream" };
            if (lastEventId !== undefined) headers["Last-Event-ID"] = lastEventId;
            const response = await originalFetch(eventsUrl, { headers, signal: closing.signal });
            if (response.status !== 200) {
                report({
                    event: "gap",
                    where: "GET /v1/events",
                    status: response.status,
                    body: parseOrText(await response.text()),
                });
            } else {
                report({ event: "stream", opened: true, resumedFrom: lastEventId ?? null });
                lastEventId = await readEvents(response.body, lastEventId, (sse) => {
                    if (sse.event === "error") {
                        report({ event: "gap", where: "GET /v1/events", sse });
                        return;
                    }
                    let data;
                    try {
                        data = JSON.parse(sse.data);
                    } catch {
                        report({ event: "gap", where: "GET /v1/events", reason: "data is not JSON", sse });
                        return;
                    }
                    report({
                        event: "pushed",
                        sseEvent: sse.event,
                        action: data.action,
                        id: sse.id ?? null,
                        events: pushedEvents(data),
                    });
                    deliver(data);
                });
                report({ event: "stream", closed: true });
            }
        } catch (error) {
            if (closing.signal.aborted) return;
            report({ event: "stream", failed: String(error) });
        }
        // EventSource's reconnection time.
        await new Promise((resolve) => setTimeout(resolve, 1000));
    }
}

/** Parses a text/event-stream body; returns the last event id seen. */
async function readEvents(body, lastEventId, onEvent) {
    const decoder = new TextDecoder();
    let buffer = "";
    let event = { data: [] };
    for await (const chunk of body) {
        buffer += decoder.decode(chunk, { stream: true });
        let newline;
        while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
            const line = buffer.slice(0, newline);
            buffer = buffer.slice(newline + (buffer.startsWith("\r\n", newline) ? 2 : 1));
            if (line === "") {
                if (event.data.length > 0) {
                    onEvent({ event: event.event ?? "message", id: event.id, data: event.data.join("\n") });
                }
                event = { data: [] };
                continue;
            }
            if (line.startsWith(":")) continue; // a comment
            const colon = line.indexOf(":");
            const field = colon < 0 ? line : line.slice(0, colon);
            let value = colon < 0 ? "" : line.slice(colon + 1);
            if (value.startsWith(" ")) value = value.slice(1);
            if (field === "data") event.data.push(value);
            else if (field === "event") event.event = value;
            else if (field === "id") {
                event.id = value;
                lastEventId = value;
            }
        }
    }
    return lastEventId;
}

/**
 * Watches the widget's own HTTP requests (matrix-js-sdk's, to its baseUrl), as a browser's
 * network panel would, and passes them on unchanged.
 */
export function watchFetch(report) {
    globalThis.fetch = async (input, init) => {
        const url = new URL(typeof input === "string" || input instanceof URL ? input : input.url);
        const method = init?.method ?? (typeof input === "object" && "method" in input ? input.method : "GET");
        try {
            const response = await originalFetch(input, init);
            report({ event: "http", method, path: url.pathname, status: response.status });
            return response;
        } catch (error) {
            report({ event: "http", method, path: url.pathname, error: String(error) });
            throw error;
        }
    };
}

/** What a push carries, in short: each event's type and state key. */
function pushedEvents(message) {
    const events = message.action === "update_state" ? message.data?.state : [message.data];
    if (!Array.isArray(events)) return undefined;
    return events
        .filter((event) => event && typeof event.type === "string")
        .map((event) => ({ type: event.type, state_key: event.state_key, room_id: event.room_id }));
}

/** A secret stays out of the report. */
function redacted(response) {
    if (response && typeof response.access_token === "string") return { ...response, access_token: "<redacted>" };
    return response;
}

function parseOrText(text) {
    try {
        return JSON.parse(text);
    } catch {
        return text;
    }
}
