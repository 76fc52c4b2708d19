package org.widgetgateway.problem;

import java.io.IOException;
import java.net.URI;
import java.util.Locale;

import jakarta.servlet.http.HttpServletResponse;
import org.slf4j.MDC;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;

/**
 * Builds the gateway's RFC 9457 problem bodies: every one carries a Matrix
 * {@code errcode} and a stable {@code type} derived from it.
 */
public final class Problems {

	/**
	 * The name of the request id: in the MDC while a request is handled, and as a member
	 * of every problem document answered to it.
	 */
	public static final String REQUEST_ID = "request_id";

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

	/**
	 * Answers with a problem where no controller does (filters, the security chain).
	 * @param response the response
	 * @param problem the problem, whose status becomes the response's
	 * @param jsonMapper the mapper
	 * @throws IOException if the answer cannot be written
	 */
	public static void write(HttpServletResponse response, ProblemDetail problem, JsonMapper jsonMapper)
			throws IOException {
		response.setStatus(problem.getStatus());
		response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
		jsonMapper.writeValue(response.getOutputStream(), problem);
	}

	static ProblemDetail withErrcode(ProblemDetail problem, String errcode) {
		problem.setType(typeOf(errcode));
		problem.setProperty("errcode", errcode);
		String requestId = MDC.get(REQUEST_ID);
		if (requestId != null) {
			problem.setProperty(REQUEST_ID, requestId);
		}
		return problem;
	}

	/**
	 * The problem type of an errcode: lower case, with every character other than a
	 * letter, a digit or a dot made a hyphen, so that a homeserver's errcode of any
	 * spelling gives a valid URI.
	 */
	static URI typeOf(String errcode) {
		return URI
			.create("urn:widget-gateway:problem:" + errcode.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9.]", "-"));
	}

}
