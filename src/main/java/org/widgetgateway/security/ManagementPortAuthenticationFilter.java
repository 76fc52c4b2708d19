package org.widgetgateway.security;

import java.io.IOException;
import java.util.List;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.jspecify.annotations.Nullable;

import org.springframework.core.env.Environment;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.core.authority.SimpleGrantedAuthority;
import org.springframework.security.core.context.SecurityContext;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Authenticates a request that came in on a management port of its own
 * ({@code management.server.port}, other than the application's) as the operator's, with
 * the authority {@value #AUTHORITY}: operators keep that port off the network widgets
 * reach, so having reached it is the credential. With it, the Prometheus scrape answers
 * without a token, and health shows its details
 * ({@code management.endpoint.health.roles}). Only used when there is such a port:
 * without one, Spring Boot's "management port" is the application's, which widgets reach.
 */
class ManagementPortAuthenticationFilter extends OncePerRequestFilter {

	/** The authority of a request that came in on the management port. */
	static final String AUTHORITY = "MANAGEMENT_PORT";

	private static final String LOCAL_MANAGEMENT_PORT = "local.management.port";

	private final Environment environment;

	/** The port the management server listens on, once it does. */
	private volatile @Nullable Integer managementPort;

	ManagementPortAuthenticationFilter(Environment environment) {
		this.environment = environment;
	}

	@Override
	protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
			throws ServletException, IOException {
		Integer managementPort = managementPort();
		if (managementPort == null || request.getLocalPort() != managementPort) {
			chain.doFilter(request, response);
			return;
		}
		SecurityContext context = SecurityContextHolder.createEmptyContext();
		context.setAuthentication(UsernamePasswordAuthenticationToken.authenticated("management port", null,
				List.of(new SimpleGrantedAuthority(AUTHORITY))));
		SecurityContextHolder.setContext(context);
		try {
			chain.doFilter(request, response);
		}
		finally {
			SecurityContextHolder.clearContext();
		}
	}

	/**
	 * The port the management server listens on (set by Spring Boot once it started, a
	 * random one for {@code management.server.port=0}), or {@code null} before then.
	 */
	private @Nullable Integer managementPort() {
		Integer port = this.managementPort;
		if (port == null) {
			port = this.environment.getProperty(LOCAL_MANAGEMENT_PORT, Integer.class);
			this.managementPort = port;
		}
		return port;
	}

}
