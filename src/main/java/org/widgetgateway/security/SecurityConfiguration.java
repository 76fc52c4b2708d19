package org.widgetgateway.security;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.annotation.web.configurers.AbstractHttpConfigurer;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.config.observation.SecurityObservationSettings;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.authentication.AnonymousAuthenticationFilter;

import org.widgetgateway.widget.WidgetRegistry;

/**
 * Widgets authenticate with their bearer token on {@code /v1/**}; the API documentation
 * and health are open; nothing else is served. Stateless: no sessions, no CSRF tokens,
 * since no browser session carries the credentials.
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
			WidgetAuthenticationEntryPoint entryPoint) {
		http.authorizeHttpRequests((requests) -> requests
			.requestMatchers("/actuator/health", "/actuator/health/**", "/v3/api-docs", "/v3/api-docs/**",
					"/v3/api-docs.yaml", "/swagger-ui/**", "/swagger-ui.html", "/error")
			.permitAll()
			.requestMatchers("/v1/**")
			.authenticated()
			.anyRequest()
			.denyAll())
			.addFilterBefore(new WidgetTokenAuthenticationFilter(widgets, entryPoint),
					AnonymousAuthenticationFilter.class)
			.exceptionHandling((exceptions) -> exceptions.authenticationEntryPoint(entryPoint))
			.sessionManagement((sessions) -> sessions.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
			.csrf(AbstractHttpConfigurer::disable)
			.httpBasic(AbstractHttpConfigurer::disable)
			.formLogin(AbstractHttpConfigurer::disable)
			.logout(AbstractHttpConfigurer::disable)
			.requestCache(AbstractHttpConfigurer::disable);
		return http.build();
	}

}
