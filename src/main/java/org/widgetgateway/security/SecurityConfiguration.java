package org.widgetgateway.security;

import tools.jackson.databind.json.JsonMapper;

import org.springframework.boot.actuate.autoconfigure.web.server.ManagementPortType;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.security.authorization.AuthorityAuthorizationManager;
import org.springframework.security.authorization.AuthorizationManager;
import org.springframework.security.authorization.SingleResultAuthorizationManager;
import org.springframework.security.config.ObjectPostProcessor;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.annotation.web.configurers.AbstractHttpConfigurer;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.config.observation.SecurityObservationSettings;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.access.intercept.RequestAuthorizationContext;
import org.springframework.security.web.authentication.AnonymousAuthenticationFilter;
import org.springframework.security.web.header.HeaderWriterFilter;
import org.springframework.web.filter.CorsFilter;

import org.widgetgateway.GatewayProperties;
import org.widgetgateway.widget.WidgetRegistry;

/**
 * Widgets authenticate with their bearer token on {@code /v1/**}; the API documentation
 * and health are open, and the Prometheus scrape on the management port (or where the
 * operator opened it); no other actuator endpoint is served. A request that came in on a
 * management port of its own is the operator's
 * ({@link ManagementPortAuthenticationFilter}): it may scrape, and health shows it its
 * details, which it shows nobody else. Any other path reaches the web layer, which
 * answers a path it does not know with a 404 problem. Stateless: no sessions, no CSRF
 * tokens, since no browser session carries the credentials. Browsers may call from the
 * origins in {@code gateway.cors.allowed-origins} only ({@link CrossOriginPolicy}).
 */
@Configuration(proxyBeanMethods = false)
class SecurityConfiguration {

	/**
	 * No observation around each security filter: on every widget request they cost more
	 * than the gateway's own work, and the request's own observation
	 * ({@code http.server.requests}) already times it.
	 */
	@Bean
	SecurityObservationSettings securityObservationSettings() {
		return SecurityObservationSettings.noObservations();
	}

	@Bean
	SecurityFilterChain securityFilterChain(HttpSecurity http, WidgetRegistry widgets,
			WidgetAuthenticationEntryPoint entryPoint, GatewayProperties properties, Environment environment,
			JsonMapper jsonMapper) {
		http.authorizeHttpRequests((requests) -> requests
			.requestMatchers("/actuator/health", "/actuator/health/**", "/v3/api-docs", "/v3/api-docs/**",
					"/v3/api-docs.yaml", "/swagger-ui/**", "/swagger-ui.html", "/error")
			.permitAll()
			.requestMatchers("/actuator/prometheus")
			.access(metricsScrape(properties))
			.requestMatchers("/v1/**")
			.authenticated()
			.requestMatchers("/actuator/**")
			.denyAll()
			.anyRequest()
			.permitAll())
			.addFilterAt(CrossOriginPolicy.filter(properties.cors().allowedOrigins(), jsonMapper), CorsFilter.class)
			.addFilterBefore(new WidgetTokenAuthenticationFilter(widgets, entryPoint),
					AnonymousAuthenticationFilter.class)
			.exceptionHandling(
					(exceptions) -> exceptions.authenticationEntryPoint(entryPoint).accessDeniedHandler(entryPoint))
			.sessionManagement((sessions) -> sessions.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
			// The security headers go out before the request is handled, not after it: a
			// stream (GET /v1/events) writes its first bytes on another thread while the
			// request's own thread returns, and the two must not both touch the headers.
			.headers((headers) -> headers.addObjectPostProcessor(new ObjectPostProcessor<HeaderWriterFilter>() {

				@Override
				public <O extends HeaderWriterFilter> O postProcess(O filter) {
					filter.setShouldWriteHeadersEagerly(true);
					return filter;
				}

			}))
			.csrf(AbstractHttpConfigurer::disable)
			.httpBasic(AbstractHttpConfigurer::disable)
			.formLogin(AbstractHttpConfigurer::disable)
			.logout(AbstractHttpConfigurer::disable)
			.requestCache(AbstractHttpConfigurer::disable);
		if (ManagementPortType.get(environment) == ManagementPortType.DIFFERENT) {
			http.addFilterBefore(new ManagementPortAuthenticationFilter(environment),
					AnonymousAuthenticationFilter.class);
		}
		return http.build();
	}

	/**
	 * Who may scrape {@code /actuator/prometheus} without a token: whoever came in on a
	 * management port of its own, or anyone when {@code gateway.metrics.open} is set.
	 * Without a management port of its own, Spring Boot's "management port" is the
	 * application's, which widgets reach: then only {@code gateway.metrics.open} opens
	 * it.
	 */
	private static AuthorizationManager<RequestAuthorizationContext> metricsScrape(GatewayProperties properties) {
		return properties.metrics().open() ? SingleResultAuthorizationManager.permitAll()
				: AuthorityAuthorizationManager.hasAuthority(ManagementPortAuthenticationFilter.AUTHORITY);
	}

}
