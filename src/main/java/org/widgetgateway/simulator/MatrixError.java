package org.widgetgateway.simulator;

import java.util.Map;

import org.springframework.http.HttpStatus;

/**
 * An error answer of the simulated homeserver, with the body Synapse gives.
 */
class MatrixError extends RuntimeException {

	private final HttpStatus status;

	private final String errcode;

	private final Map<String, Object> extra;

	MatrixError(HttpStatus status, String errcode, String error) {
		this(status, errcode, error, Map.of());
	}

	MatrixError(HttpStatus status, String errcode, String error, Map<String, Object> extra) {
		super(error, null, false, false);
		this.status = status;
		this.errcode = errcode;
		this.extra = extra;
	}

	static MatrixError notFound(String error) {
		return new MatrixError(HttpStatus.NOT_FOUND, "M_NOT_FOUND", error);
	}

	static MatrixError invalidParam(String error) {
		return new MatrixError(HttpStatus.BAD_REQUEST, "M_INVALID_PARAM", error);
	}

	HttpStatus status() {
		return this.status;
	}

	String errcode() {
		return this.errcode;
	}

	Map<String, Object> extra() {
		return this.extra;
	}

}
