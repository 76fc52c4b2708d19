package org.widgetgateway.homeserver;

import java.util.Objects;

import org.jspecify.annotations.Nullable;

/**
 * The Matrix account a homeserver call acts as: the gateway's own
 * ({@code gateway.homeserver.access-token}), or one whose access token was configured for
 * a widget of its own. The homeserver applies its per-user rate limits and delayed-event
 * ownership to each account alone. Its text never shows the token.
 */
public final class MatrixAccount {

	/** The gateway's own account. */
	public static final MatrixAccount GATEWAY = new MatrixAccount(null);

	private final @Nullable String accessToken;

	private MatrixAccount(@Nullable String accessToken) {
		this.accessToken = accessToken;
	}

	/**
	 * An account of its own.
	 * @param accessToken the account's access token
	 * @return the account
	 */
	public static MatrixAccount withAccessToken(String accessToken) {
		return new MatrixAccount(Objects.requireNonNull(accessToken));
	}

	/** The access token, or {@code null} for the gateway's own account. */
	@Nullable String accessToken() {
		return this.accessToken;
	}

	/** Whether this is the gateway's own account. */
	public boolean isGateway() {
		return this.accessToken == null;
	}

	@Override
	public boolean equals(Object other) {
		return other instanceof MatrixAccount account && Objects.equals(this.accessToken, account.accessToken);
	}

	@Override
	public int hashCode() {
		return Objects.hashCode(this.accessToken);
	}

	@Override
	public String toString() {
		return isGateway() ? "MatrixAccount[the gateway's]" : "MatrixAccount[a widget's own]";
	}

}
