package org.widgetgateway.problem;

import java.net.URI;
import java.util.Locale;

import org.springframework.http.HttpStatusCode;
import org.springframework.http.ProblemDetail;

/**
 * Builds the gateway's RFC 9457 problem bodies: every one carries a Matrix
 * {@code errcode} and a stable {@code type} derived from it.
 */
public final class Problems {

	private Problems() {
	}

	/**
	 * A problem body.
	 * @param status the HTTP status
	 * @param errcode the Matrix error code
	 * @param detail a sentence a widget developer can act on
	 * @return the problem
	 */
	public static ProblemDetail of(HttpStatusCode status, String errcode, String detail) {
		ProblemDetail problem = ProblemDetail.forStatusAndDetail(status, detail);
		return withErrcode(problem, errcode);
	}

	static ProblemDetail withErrcode(ProblemDetail problem, String errcode) {
		problem.setType(typeOf(errcode));
		problem.setProperty("errcode", errcode);
		return problem;
	}

	static URI typeOf(String errcode) {
		return URI.create("urn:widget-gateway:problem:" + errcode.toLowerCase(Locale.ROOT).replace('_', '-'));
	}

}
