package org.widgetgateway.problem;

import java.io.IOException;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.http.HttpStatus;
import org.springframework.http.InvalidMediaTypeException;
import org.springframework.http.MediaType;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Refuses request bodies larger than {@value #LIMIT} bytes with 413 {@code M_TOO_LARGE}:
 * at once when the declared length is too large, and while reading when a body without a
 * declared length runs over. Refuses a {@code Content-Type} that names no one media type
 * (such as {@code *}{@code /*}, or one that does not parse) with 415 {@code M_NOT_JSON}
 * before any handler tries to read the body by it.
 */
@Component
class RequestBodyLimitFilter extends OncePerRequestFilter {

	static final int LIMIT = 65536;

	private final JsonMapper jsonMapper;

	RequestBodyLimitFilter(JsonMapper jsonMapper) {
		this.jsonMapper = jsonMapper;
	}

	@Override
	protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
			throws ServletException, IOException {
		if (request.getContentLengthLong() > LIMIT) {
			Problems.write(response, Problems.of(HttpStatus.CONTENT_TOO_LARGE, "M_TOO_LARGE",
					new RequestBodyTooLargeException(LIMIT).getMessage()), this.jsonMapper);
			return;
		}
		String contentType = request.getContentType();
		if (contentType != null && !isConcrete(contentType)) {
			Problems.write(response,
					Problems.of(HttpStatus.UNSUPPORTED_MEDIA_TYPE, "M_NOT_JSON",
							"The body must be JSON, sent with Content-Type: application/json, not " + contentType),
					this.jsonMapper);
			return;
		}
		chain.doFilter(new LimitedRequest(request), response);
	}

	private static boolean isConcrete(String contentType) {
		try {
			MediaType mediaType = MediaType.parseMediaType(contentType);
			return !mediaType.isWildcardType() && !mediaType.isWildcardSubtype();
		}
		catch (InvalidMediaTypeException ex) {
			return false;
		}
	}

	private static final class LimitedRequest extends HttpServletRequestWrapper {

		private @Nullable ServletInputStream stream;

		LimitedRequest(HttpServletRequest request) {
			super(request);
		}

		@Override
		public ServletInputStream getInputStream() throws IOException {
			if (this.stream == null) {
				this.stream = new LimitedInputStream(super.getInputStream());
			}
			return this.stream;
		}

	}

	private static final class LimitedInputStream extends ServletInputStream {

		private final ServletInputStream delegate;

		private long read;

		LimitedInputStream(ServletInputStream delegate) {
			this.delegate = delegate;
		}

		@Override
		public int read() throws IOException {
			int b = this.delegate.read();
			if (b >= 0) {
				count(1);
			}
			return b;
		}

		@Override
		public int read(byte[] buffer, int offset, int length) throws IOException {
			int n = this.delegate.read(buffer, offset, length);
			if (n > 0) {
				count(n);
			}
			return n;
		}

		private void count(int n) {
			this.read += n;
			if (this.read > LIMIT) {
				throw new RequestBodyTooLargeException(LIMIT);
			}
		}

		@Override
		public boolean isFinished() {
			return this.delegate.isFinished();
		}

		@Override
		public boolean isReady() {
			return this.delegate.isReady();
		}

		@Override
		public void setReadListener(ReadListener listener) {
			this.delegate.setReadListener(listener);
		}

	}

}
