package org.widgetgateway.security;

import java.io.IOException;
import java.util.List;
import java.util.Optional;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.springframework.http.HttpHeaders;
import org.springframework.security.authentication.BadCredentialsException;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.core.authority.SimpleGrantedAuthority;
import org.springframework.security.core.context.SecurityContext;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.web.filter.OncePerRequestFilter;

import org.widgetgateway.widget.Widget;
import org.widgetgateway.widget.WidgetRegistry;

/**
 * Authenticates a request by its {@code Authorization: Bearer} widget token; the
 * {@link Widget} becomes the principal. A request without a token goes on anonymous (the
 * entry point answers {@code M_MISSING_TOKEN} where one is needed); an unknown token is
 * refused at once with {@code M_UNKNOWN_TOKEN}.
 */
class WidgetTokenAuthenticationFilter extends OncePerRequestFilter {

	private static final String BEARER = "bearer ";

	private final WidgetRegistry widgets;

	private final WidgetAuthenticationEntryPoint entryPoint;

	WidgetTokenAuthenticationFilter(WidgetRegistry widgets, WidgetAuthenticationEntryPoint entryPoint) {
		this.widgets = widgets;
		this.entryPoint = entryPoint;
	}

	/**
	 * Asynchronous results (the homeserver's answers) are dispatched anew: authenticate
	 * those too.
	 */
	@Override
	protected boolean shouldNotFilterAsyncDispatch() {
		return false;
	}

	@Override
	protected boolean shouldNotFilterErrorDispatch() {
		return false;
	}

	@Override
	protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
			throws ServletException, IOException {
		String header = request.getHeader(HttpHeaders.AUTHORIZATION);
		if (header == null || !header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
			chain.doFilter(request, response);
			return;
		}
		Optional<Widget> widget = this.widgets.findByToken(header.substring(BEARER.length()).strip());
		if (widget.isEmpty()) {
			this.entryPoint.commence(request, response, new BadCredentialsException("Unknown widget token"));
			return;
		}
		SecurityContext context = SecurityContextHolder.createEmptyContext();
		context.setAuthentication(UsernamePasswordAuthenticationToken.authenticated(widget.get(), null,
				List.of(new SimpleGrantedAuthority("WIDGET"))));
		SecurityContextHolder.setContext(context);
		try {
			chain.doFilter(request, response);
		}
		finally {
			SecurityContextHolder.clearContext();
		}
	}

}
