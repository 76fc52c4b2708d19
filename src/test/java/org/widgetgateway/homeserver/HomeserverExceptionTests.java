package org.widgetgateway.homeserver;

import java.net.ConnectException;
import java.net.UnknownHostException;

import javax.net.ssl.SSLHandshakeException;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Why the homeserver could not be reached, in words an operator can act on and that name
 * no host, since widgets see them.
 */
class HomeserverExceptionTests {

	@Test
	void theCauseOfAnUnreachableHomeserverIsNamedWithoutItsAddress() {
		assertThat(HomeserverException
			.unreachable(
					new RuntimeException(new ConnectException("Connection refused: matrix.internal/10.0.0.7:8448")))
			.getMessage()).isEqualTo("The homeserver could not be reached (connection refused)");
		assertThat(HomeserverException.unreachable(new UnknownHostException("matrix.internal")).getMessage())
			.isEqualTo("The homeserver could not be reached (unknown host name)");
		assertThat(HomeserverException
			.unreachable(new RuntimeException(new SSLHandshakeException("PKIX path building failed")))
			.getMessage()).isEqualTo("The homeserver could not be reached (TLS handshake failed)");
		assertThat(HomeserverException.unreachable(new RuntimeException("reset")).getMessage())
			.isEqualTo("The homeserver could not be reached");
	}

}
