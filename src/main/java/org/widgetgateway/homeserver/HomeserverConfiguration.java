package org.widgetgateway.homeserver;

import java.util.function.Supplier;

import io.netty.channel.ChannelOption;
import reactor.netty.http.client.HttpClient;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.http.client.reactive.ReactorClientHttpConnector;
import org.springframework.web.reactive.function.client.WebClient;

import org.widgetgateway.GatewayProperties;

/**
 * Builds the {@link HomeserverClient} from Boot's {@link WebClient.Builder}, so that its
 * codecs and observations apply, with the configured timeouts.
 */
@Configuration(proxyBeanMethods = false)
class HomeserverConfiguration {

	@Bean
	HomeserverClient homeserverClient(WebClient.Builder builder, GatewayProperties properties, JsonMapper jsonMapper,
			Environment environment) {
		GatewayProperties.Homeserver homeserver = properties.homeserver();
		HttpClient httpClient = HttpClient.create()
			.option(ChannelOption.CONNECT_TIMEOUT_MILLIS, Math.toIntExact(homeserver.connectTimeout().toMillis()));
		WebClient webClient = builder.clone().clientConnector(new ReactorClientHttpConnector(httpClient)).build();
		return new HomeserverClient(webClient, baseUrl(homeserver, environment), homeserver.accessToken(),
				homeserver.responseTimeout(), jsonMapper);
	}

	/**
	 * The configured homeserver, or else the embedded simulator on the gateway's own
	 * port, known once the web server has started.
	 */
	private static Supplier<String> baseUrl(GatewayProperties.Homeserver homeserver, Environment environment) {
		String configured = homeserver.baseUrl();
		if (configured != null) {
			String trimmed = configured.replaceAll("/+$", "");
			return () -> trimmed;
		}
		return () -> "http://127.0.0.1:" + environment.getRequiredProperty("local.server.port");
	}

}
