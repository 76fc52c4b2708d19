// Element Call's client stack, unmodified, as a widget of the Widget Gateway: matrix-widget-api's
// WidgetApi and matrix-js-sdk's RoomWidgetClient and MatrixRTCSession, set up as Element Call
// sets them up (src/widget.ts), in a window whose parent is the gateway (browser-window.mjs).
//
//   node element-call-client.mjs <gatewayUrl> start
//       negotiates capabilities over the stream, starts the client, says it has loaded, asks for
//       the RTC transports and an OpenID token (what Element Call does before it joins), and exits
//   node element-call-client.mjs <gatewayUrl> call <deviceId>
//       the same, then joins the room's call in state mode and stays, reporting what its
//       session sees, until "leave" on stdin: leaves, and exits
//
// Observations are written to stdout as lines "EC> {json}"; everything else on stdout and
// stderr is the libraries' own logging.
import "./node20.mjs";
import { installWindow, watchFetch } from "./browser-window.mjs";
import { createInterface } from "node:readline";
import { WidgetApi, MatrixCapabilities } from "matrix-widget-api";
import { createRoomWidgetClient, EventType } from "matrix-js-sdk";
import { logger } from "matrix-js-sdk/lib/logger.js";
import { MatrixRTCSessionEvent, MembershipManagerEvent } from "matrix-js-sdk/lib/matrixrtc/index.js";

const [gatewayUrl, scenario = "start", deviceId = "ELEMENTCALL"] = process.argv.slice(2);
const widgetId = process.env.EC_WIDGET_ID ?? "demo";
const token = process.env.EC_TOKEN ?? "demo-token";
const roomId = process.env.EC_ROOM_ID ?? "!demo:localhost";
const userId = process.env.EC_USER_ID ?? "@demo:localhost";
// Short, so that a test sees restarts and a delayed leave fire within seconds.
const delayedLeaveEventDelayMs = Number(process.env.EC_DELAY_MS ?? 4000);
const delayedLeaveEventRestartMs = Number(process.env.EC_RESTART_MS ?? 1000);
const membershipEventExpiryMs = Number(process.env.EC_EXPIRY_MS ?? 10000);

function report(line) {
    process.stdout.write(`EC> ${JSON.stringify({ t: Date.now(), ...line })}\n`);
}

// A browser reports what a page leaves unhandled and goes on; so does this window.
process.on("unhandledRejection", (reason) => report({ event: "error", unhandled: String(reason?.stack ?? reason) }));
process.on("uncaughtException", (error) => report({ event: "error", uncaught: String(error?.stack ?? error) }));

logger.setLevel(process.env.EC_LOG_LEVEL ?? "info", false);

if (!gatewayUrl) {
    console.error("usage: node element-call-client.mjs <gatewayUrl> start|call [deviceId]");
    process.exit(2);
}

watchFetch(report);
const window = installWindow({ gatewayUrl, token, report });

// As Element Call does: the widget API with the parent's origin, and the capabilities of
// src/widget.ts. The host approves what the widget's grant covers.
const api = new WidgetApi(widgetId, window.origin);
api.requestCapability(MatrixCapabilities.AlwaysOnScreen);
api.requestCapability(MatrixCapabilities.MSC4039DownloadFile);
const sendRecvEvent = [
    "org.matrix.rageshake_request",
    EventType.CallEncryptionKeysPrefix,
    EventType.Reaction,
    EventType.RoomRedaction,
    "io.element.call.reaction",
    EventType.RTCDecline,
    EventType.RTCMembership,
];
const callEvents = [
    EventType.CallInvite,
    EventType.CallCandidates,
    EventType.CallAnswer,
    EventType.CallHangup,
    EventType.CallReject,
    EventType.CallSelectAnswer,
    EventType.CallNegotiate,
    EventType.CallSDPStreamMetadataChanged,
    EventType.CallSDPStreamMetadataChangedPrefix,
    EventType.CallReplaces,
    EventType.CallEncryptionKeysPrefix,
];
const capabilities = {
    sendEvent: [EventType.CallNotify, EventType.RTCNotification, ...sendRecvEvent],
    receiveEvent: sendRecvEvent,
    sendState: [userId, `_${userId}_${deviceId}_m.call`, `${userId}_${deviceId}_m.call`].map((stateKey) => ({
        eventType: EventType.GroupCallMemberPrefix,
        stateKey,
    })),
    receiveState: [
        { eventType: EventType.RoomCreate },
        { eventType: EventType.RoomName },
        { eventType: EventType.RoomMember },
        { eventType: EventType.RoomEncryption },
        { eventType: EventType.GroupCallMemberPrefix },
    ],
    sendToDevice: callEvents,
    receiveToDevice: callEvents,
    turnServers: false,
    rtcTransports: true,
    rtcLivekitGetToken: true,
    rtcLivekitDelegateDelayedLeave: true,
    sendDelayedEvents: true,
    updateDelayedEvents: true,
    sendSticky: true,
    receiveSticky: true,
};
const client = createRoomWidgetClient(
    api,
    capabilities,
    roomId,
    { baseUrl: gatewayUrl, userId, deviceId, timelineSupport: true, useE2eForGroupCall: false },
    false,
);

api.once("ready", () => report({ event: "ready" }));

let stopping = false;
async function stop(code) {
    if (stopping) return;
    stopping = true;
    try {
        client.stopClient();
        api.transport.stop();
    } finally {
        window.close();
        report({ event: "exit", code });
        // Let the last lines out before the process ends.
        setTimeout(() => process.exit(code), 50);
    }
}

async function start() {
    const started = Date.now();
    await client.startClient();
    const room = client.getRoom(roomId);
    report({
        event: "started",
        ms: Date.now() - started,
        approved: capabilitiesApproved(),
        clientVersions: await api.getClientVersions(),
        updateState: await client.supportUpdateState(),
        room: room?.roomId ?? null,
        memberStates: room?.currentState.getStateEvents(EventType.GroupCallMemberPrefix).length ?? null,
    });
    return room;
}

function capabilitiesApproved() {
    // WidgetApi keeps what notify_capabilities said; hasCapability reads it.
    const interesting = [
        `org.matrix.msc2762.send.state_event:${EventType.GroupCallMemberPrefix}#_${userId}_${deviceId}_m.call`,
        `org.matrix.msc2762.receive.state_event:${EventType.GroupCallMemberPrefix}`,
        MatrixCapabilities.MSC4157SendDelayedEvent,
        MatrixCapabilities.MSC4157UpdateDelayedEvent,
        MatrixCapabilities.MSC4407SendStickyEvent,
        MatrixCapabilities.MSC4407ReceiveStickyEvent,
        MatrixCapabilities.MSC4515RtcTransports,
        MatrixCapabilities.MSC4533RtcLivekitGetToken,
        MatrixCapabilities.MSC4533RtcLivekitDelegateDelayedLeave,
        MatrixCapabilities.AlwaysOnScreen,
    ];
    return Object.fromEntries(interesting.map((capability) => [capability, api.hasCapability(capability)]));
}

/**
 * What Element Call does before it joins: tells the host it has loaded (it passes
 * sendContentLoaded=false and sends it once its theme is set), and asks where the SFU is and
 * who the user is.
 */
async function prepare() {
    try {
        await api.sendContentLoaded();
        report({ event: "contentLoaded" });
    } catch (error) {
        report({ event: "contentLoaded", error: String(error) });
    }
    let transports = [];
    try {
        transports = await client._unstable_getRTCTransports();
        report({ event: "transports", transports });
    } catch (error) {
        report({ event: "transports", error: String(error) });
    }
    try {
        const openId = await client.getOpenIdToken();
        report({
            event: "openid",
            token_type: openId.token_type,
            matrix_server_name: openId.matrix_server_name,
            has_access_token: typeof openId.access_token === "string" && openId.access_token.length > 0,
        });
    } catch (error) {
        report({ event: "openid", error: String(error) });
    }
    return transports;
}

function describe(membership) {
    return {
        sender: membership.sender,
        deviceId: membership.deviceId,
        eventId: membership.eventId,
        application: membership.application,
        expired: membership.isExpired(),
    };
}

async function call(room, transports) {
    const session = client.matrixRTC.getRoomSession(room);
    session.on(MatrixRTCSessionEvent.MembershipsChanged, (_old, memberships) =>
        report({ event: "memberships", memberships: memberships.map(describe) }),
    );
    session.on(MatrixRTCSessionEvent.JoinStateChanged, (joined) => report({ event: "joinState", joined }));
    session.on(MatrixRTCSessionEvent.MembershipManagerError, (error) =>
        report({ event: "error", membershipManager: String(error?.stack ?? error) }),
    );
    session.on(MembershipManagerEvent.StatusChanged, (from, to) => report({ event: "status", from, to }));
    session.on(MembershipManagerEvent.DelayIdChanged, (delayId) => report({ event: "delayId", delayId }));
    session.on(MembershipManagerEvent.ProbablyLeft, (probablyLeft) => report({ event: "probablyLeft", probablyLeft }));

    const livekit = transports.find((transport) => transport.type === "livekit");
    const focus = {
        type: "livekit",
        livekit_service_url: livekit?.livekit_service_url ?? new URL("/livekit-simulator", gatewayUrl).toString(),
        livekit_alias: roomId,
    };
    report({ event: "joining", focus, stateKey: `_${userId}_${deviceId}_m.call` });
    session.joinRoomSession([focus], undefined, {
        manageMediaKeys: false,
        delayedLeaveEventDelayMs,
        delayedLeaveEventRestartMs,
        membershipEventExpiryMs,
    });

    const lines = createInterface({ input: process.stdin });
    for await (const line of lines) {
        const command = line.trim();
        if (command === "leave") {
            const started = Date.now();
            const left = await session.leaveRoomSession(10_000);
            report({ event: "left", result: left, ms: Date.now() - started });
            await session.stop();
            return 0;
        }
        if (command === "memberships") {
            report({ event: "memberships", memberships: session.memberships.map(describe) });
        } else if (command === "exit") {
            return 0;
        }
    }
    // stdin closed: the test is gone.
    return 0;
}

try {
    const room = await start();
    const transports = await prepare();
    const code = scenario === "call" ? await call(room, transports) : 0;
    await stop(code);
} catch (error) {
    report({ event: "error", failed: String(error?.stack ?? error) });
    await stop(1);
}
