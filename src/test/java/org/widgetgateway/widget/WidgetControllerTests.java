package org.widgetgateway.widget;

import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.assertj.MockMvcTester;

import org.widgetgateway.GatewayWebTest;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code GET /v1/widget}, {@code GET /v1/supported_api_versions} and
 * {@code POST /v1/capabilities}.
 */
@GatewayWebTest
class WidgetControllerTests {

	@Autowired
	private MockMvcTester mvc;

	@Test
	void widgetDescribesTheCallingWidget() {
		assertThat(this.mvc.get().uri("/v1/widget").header(HttpHeaders.AUTHORIZATION, "Bearer call-token"))
			.hasStatusOk()
			.bodyJson()
			.isStrictlyEqualTo(
					"""
							{"widget_id": "call", "room_id": "!call:example.org", "max_delay_ms": 3600000,
							 "capabilities": ["org.matrix.msc2762.send.state_event:org.matrix.msc3401.call.member",
							                  "org.matrix.msc4157.send.delayed_event", "org.matrix.msc4157.update_delayed_event",
							                  "org.matrix.msc2762.send.event:m.room.message#m.text",
							                  "org.matrix.msc2762.timeline:!other:example.org"],
							 "delayed_events": {"status": "available", "api": "unstable", "max_delay_ms": 86400000,
							                    "max_scheduled": 100}}""");
	}

	@Test
	void widgetConfiguredByTokenDigestAuthenticatesWithItsToken() {
		assertThat(this.mvc.get().uri("/v1/widget").header(HttpHeaders.AUTHORIZATION, "Bearer plain-token"))
			.hasStatusOk()
			.bodyJson()
			.extractingPath("$.widget_id")
			.isEqualTo("plain");
	}

	@Test
	void supportedApiVersionsHaveNoVersionForDelayedEvents() {
		assertThat(
				this.mvc.get().uri("/v1/supported_api_versions").header(HttpHeaders.AUTHORIZATION, "Bearer call-token"))
			.hasStatusOk()
			.bodyJson()
			.isStrictlyEqualTo(
					"""
							{"supported_versions": ["0.0.1", "0.0.2", "org.matrix.msc2762", "org.matrix.msc2871", "org.matrix.msc2974", "org.matrix.msc2876", "org.matrix.msc3819", "town.robin.msc3846", "org.matrix.msc2762_update_state", "org.matrix.msc4515", "org.matrix.msc4533"]}""");
	}

	@Test
	void capabilitiesAnswersTheCoveredSubset() {
		assertThat(this.mvc.post()
			.uri("/v1/capabilities")
			.header(HttpHeaders.AUTHORIZATION, "Bearer other-token")
			.contentType(MediaType.APPLICATION_JSON)
			.content(
					"""
							{"capabilities": ["org.matrix.msc4157.send.delayed_event", "org.matrix.msc4157.update_delayed_event",
							  "org.matrix.msc2762.send.state_event:org.matrix.msc3401.call.member#_@bob:example.org_D_m.call",
							  "org.matrix.msc2762.send.event:m.room.message", "org.matrix.msc2762.timeline:*"]}"""))
			.hasStatusOk()
			.bodyJson()
			.isStrictlyEqualTo(
					"""
							{"capabilities": ["org.matrix.msc4157.send.delayed_event", "org.matrix.msc4157.update_delayed_event",
							  "org.matrix.msc2762.send.state_event:org.matrix.msc3401.call.member#_@bob:example.org_D_m.call"]}""");
	}

	@Test
	void capabilitiesWithoutTheListIsABadRequest() {
		assertThat(this.mvc.post()
			.uri("/v1/capabilities")
			.header(HttpHeaders.AUTHORIZATION, "Bearer call-token")
			.contentType(MediaType.APPLICATION_JSON)
			.content("{}")).hasStatus(HttpStatus.BAD_REQUEST).bodyJson().satisfies((json) -> {
				assertThat(json).extractingPath("$.errcode").isEqualTo("M_MISSING_PARAM");
				assertThat(json).extractingPath("$.detail").asString().contains("capabilities");
			});
	}

}
