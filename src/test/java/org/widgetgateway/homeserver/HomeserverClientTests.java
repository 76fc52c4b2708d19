package org.widgetgateway.homeserver;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

import com.github.benmanes.caffeine.cache.Ticker;
import com.github.tomakehurst.wiremock.junit5.WireMockRuntimeInfo;
import com.github.tomakehurst.wiremock.junit5.WireMockTest;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.JsonNodeFactory;

import org.springframework.web.reactive.function.client.WebClient;

import org.widgetgateway.GatewayProperties;
import org.widgetgateway.homeserver.HomeserverException.Kind;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.put;
import static com.github.tomakehurst.wiremock.client.WireMock.putRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.stubFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static com.github.tomakehurst.wiremock.client.WireMock.verify;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

/**
 * The homeserver client on its own, against a WireMock homeserver, where a test needs
 * settings of its own: a short response timeout, a small circuit breaker, and a look at
 * the requests' URI templates. Discovery is warmed up before each test, and a slow answer
 * here is three times slower than the gateway waits, so a slow machine cannot change an
 * outcome.
 */
@WireMockTest
class HomeserverClientTests {

	private static final Duration RESPONSE_TIMEOUT = Duration.ofSeconds(2);

	private static final Duration OPEN_FOR = Duration.ofMillis(500);

	private final List<String> uriTemplates = new CopyOnWriteArrayList<>();

	private CircuitBreaker circuitBreaker;

	private HomeserverClient client;

	private WebClient webClient;

	private Supplier<String> baseUrl;

	@BeforeEach
	void client(WireMockRuntimeInfo wireMock) {
		stubFor(get(urlPathEqualTo("/_matrix/client/versions"))
			.willReturn(okJson("{\"versions\": [\"v1.12\"], \"unstable_features\": {\"org.matrix.msc4140\": true}}")));
		stubFor(get(urlPathEqualTo("/_matrix/client/v3/capabilities")).willReturn(
				okJson("{\"capabilities\": {\"org.matrix.msc4140.delayed_events\": {\"max_delay_ms\": 86400000}}}")));
		this.circuitBreaker = CircuitBreaker.of("homeserver", HomeserverConfiguration
			.circuitBreakerConfig(new GatewayProperties.CircuitBreaker(50, 4, Duration.ofSeconds(60), OPEN_FOR)));
		WebClient webClient = WebClient.builder().filter((request, next) -> {
			this.uriTemplates
				.add(request.attribute(WebClient.class.getName() + ".uriTemplate").map(String::valueOf).orElse("none"));
			return next.exchange(request);
		}).build();
		this.webClient = webClient;
		this.baseUrl = wireMock::getHttpBaseUrl;
		this.client = client(RESPONSE_TIMEOUT, Duration.ZERO);
		this.circuitBreaker.reset();
		this.uriTemplates.clear();
	}

	private HomeserverClient client(Duration responseTimeout, Duration retryBudget) {
		HomeserverHttp http = new HomeserverHttp(this.webClient, this.baseUrl, "hs-token", responseTimeout,
				this.circuitBreaker, OPEN_FOR, JsonMapper.shared());
		HomeserverDiscovery discovery = new HomeserverDiscovery(http, Duration.ofMinutes(10), Ticker.systemTicker());
		HomeserverClient client = new HomeserverClient(http, discovery, retryBudget, Schedulers.parallel());
		await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> discovery.current().block() != null);
		return client;
	}

	private static OutgoingEvent leave() {
		return new OutgoingEvent("!call:example.org", "org.matrix.msc3401.call.member",
				"_@alice:example.org_DEV_m.call", JsonNodeFactory.instance.objectNode(), 8000L, "txn1");
	}

	private static OutgoingEvent message() {
		return new OutgoingEvent("!call:example.org", "m.room.message", null,
				JsonNodeFactory.instance.objectNode().put("msgtype", "m.text"), null, "txn2");
	}

	private HomeserverException failure(OutgoingEvent event) {
		return catchThrowableOfType(HomeserverException.class,
				() -> this.client.send(MatrixAccount.GATEWAY, event).block());
	}

	@Test
	void delayedStateEventAnsweredTooLateIsATimeoutOfUnknownOutcome() {
		stubFor(put(anyUrl()).willReturn(okJson("{\"delay_id\": \"syd_late\"}").withFixedDelay(6_000)));

		HomeserverException failure = failure(leave());

		assertThat(failure.kind()).isEqualTo(Kind.TIMEOUT);
		assertThat(failure.getMessage()).isEqualTo("The homeserver did not answer within 2000ms");
		assertThat(failure.outcomeUnknown()).isTrue();
		verify(1, putRequestedFor(anyUrl()));
	}

	@Test
	void roomEventAnsweredTooLateIsATimeoutThatARepeatCannotDouble() {
		stubFor(put(anyUrl()).willReturn(okJson("{\"event_id\": \"$late\"}").withFixedDelay(6_000)));

		HomeserverException failure = failure(message());

		assertThat(failure.kind()).isEqualTo(Kind.TIMEOUT);
		assertThat(failure.outcomeUnknown()).isFalse();
	}

	@Test
	void circuitBreakerOpensAfterRepeatedFailuresAndClosesWhenTheHomeserverIsBack() {
		stubFor(put(anyUrl()).willReturn(aResponse().withStatus(503).withBody("busy")));
		for (int i = 0; i < 4; i++) {
			assertThat(failure(message()).kind()).isEqualTo(Kind.UNAVAILABLE);
		}

		HomeserverException failFast = failure(message());
		assertThat(failFast.kind()).isEqualTo(Kind.CIRCUIT_OPEN);
		assertThat(failFast.retryAfter()).isEqualTo(OPEN_FOR);
		verify(4, putRequestedFor(anyUrl()));

		stubFor(put(anyUrl()).willReturn(okJson("{\"event_id\": \"$back\"}")));
		await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
			this.client.send(MatrixAccount.GATEWAY, message()).onErrorComplete().block();
			assertThat(this.circuitBreaker.getState()).isEqualTo(CircuitBreaker.State.CLOSED);
		});
		assertThat(this.client.send(MatrixAccount.GATEWAY, message()).block()).isEqualTo(new SentEvent("$back", null));
	}

	@Test
	void refusalsDoNotOpenTheCircuitBreaker() {
		stubFor(put(anyUrl()).willReturn(aResponse().withStatus(403)
			.withHeader("Content-Type", "application/json")
			.withBody("{\"errcode\": \"M_FORBIDDEN\", \"error\": \"You are not allowed\"}")));
		for (int i = 0; i < 6; i++) {
			assertThat(failure(message()).kind()).isEqualTo(Kind.REFUSED);
		}
		assertThat(this.circuitBreaker.getState()).isEqualTo(CircuitBreaker.State.CLOSED);
	}

	@Test
	void aRequestCountsOnceWhateverItsRepeats() {
		stubFor(put(anyUrl()).willReturn(aResponse().withStatus(503).withBody("busy")));
		HomeserverClient repeating = client(RESPONSE_TIMEOUT, Duration.ofSeconds(5));

		HomeserverException failure = catchThrowableOfType(HomeserverException.class,
				() -> repeating.send(MatrixAccount.GATEWAY, message()).block());

		assertThat(failure.kind()).isEqualTo(Kind.UNAVAILABLE);
		verify(5, putRequestedFor(anyUrl()));
		assertThat(this.circuitBreaker.getMetrics().getNumberOfFailedCalls()).isEqualTo(1);
		assertThat(this.circuitBreaker.getState()).isEqualTo(CircuitBreaker.State.CLOSED);
	}

	@Test
	void serverErrorsWithAMatrixBodyAreOneEventsTroubleAndDoNotOpenTheCircuitBreaker() {
		stubFor(put(anyUrl()).willReturn(aResponse().withStatus(500)
			.withHeader("Content-Type", "application/json")
			.withBody("{\"errcode\": \"M_UNKNOWN\", \"error\": \"Internal server error\"}")));
		for (int i = 0; i < 6; i++) {
			assertThat(failure(message()).kind()).isEqualTo(Kind.REFUSED);
		}
		assertThat(this.circuitBreaker.getState()).isEqualTo(CircuitBreaker.State.CLOSED);
		assertThat(this.circuitBreaker.getMetrics().getNumberOfFailedCalls()).isZero();
	}

	@Test
	void aRoomThatAnswersTooLateFailsOnlyItsOwnCallsNotEveryonesThroughTheCircuitBreaker() {
		stubFor(put(urlPathMatching("/_matrix/client/v3/rooms/!slow.*"))
			.willReturn(okJson("{\"event_id\": \"$late\"}").withFixedDelay(3_000)));
		stubFor(put(urlPathMatching("/_matrix/client/v3/rooms/!call.*")).willReturn(okJson("{\"event_id\": \"$ok\"}")));
		HomeserverClient impatient = client(Duration.ofSeconds(1), Duration.ZERO);
		OutgoingEvent slow = new OutgoingEvent("!slow:example.org", "m.room.message", null,
				JsonNodeFactory.instance.objectNode(), null, "txn3");

		List<HomeserverException> failures = Flux.range(0, 8)
			.flatMap((i) -> impatient.send(MatrixAccount.GATEWAY, slow)
				.<HomeserverException>then(Mono.empty())
				.onErrorResume(HomeserverException.class, Mono::just))
			.collectList()
			.block();

		assertThat(failures).hasSize(8).allSatisfy((ex) -> assertThat(ex.kind()).isEqualTo(Kind.TIMEOUT));
		assertThat(this.circuitBreaker.getState()).isEqualTo(CircuitBreaker.State.CLOSED);
		assertThat(impatient.send(MatrixAccount.GATEWAY, message()).block()).isEqualTo(new SentEvent("$ok", null));
	}

	@Test
	void requestsAreLabelledByUriTemplateNeverByRoomStateKeyOrDelayId() {
		stubFor(put(anyUrl()).willReturn(okJson("{\"delay_id\": \"syd_t\"}")));
		stubFor(post(anyUrl()).willReturn(okJson("{}")));

		this.client.send(MatrixAccount.GATEWAY, leave()).block();
		this.client.updateDelayedEvent(MatrixAccount.GATEWAY, "syd_t", DelayedEventAction.RESTART).block();

		assertThat(this.uriTemplates).containsExactly(
				"/_matrix/client/v3/rooms/{roomId}/state/{eventType}/{stateKey}?org.matrix.msc4140.delay={delay}",
				"/_matrix/client/unstable/org.matrix.msc4140/delayed_events/{delayId}/{action}");
	}

}
