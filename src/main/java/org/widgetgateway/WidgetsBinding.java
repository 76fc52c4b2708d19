package org.widgetgateway;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.boot.context.properties.ConfigurationPropertiesBindHandlerAdvisor;
import org.springframework.boot.context.properties.bind.AbstractBindHandler;
import org.springframework.boot.context.properties.bind.BindContext;
import org.springframework.boot.context.properties.bind.BindHandler;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.bind.PropertySourcesPlaceholdersResolver;
import org.springframework.boot.context.properties.source.ConfigurationProperty;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName.Form;
import org.springframework.boot.context.properties.source.ConfigurationPropertySource;
import org.springframework.boot.context.properties.source.ConfigurationPropertyState;
import org.springframework.boot.context.properties.source.IterableConfigurationPropertySource;
import org.springframework.boot.convert.ApplicationConversionService;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.stereotype.Component;

import org.widgetgateway.GatewayProperties.Widget;

/**
 * Binds {@code gateway.widgets} one widget at a time, each against its own properties
 * only, so that the time to bind the widgets grows with their number rather than with its
 * square.
 * <p>
 * Spring Boot's binder looks for the elements of a list (a widget's {@code capabilities})
 * among every name of the property source that holds them: with all widgets in one file,
 * each widget's list cost a pass over every widget's properties, and 2,000 widgets took
 * seconds of startup to bind. Here one pass over each source groups the names under
 * {@code gateway.widgets} by widget, and the widgets are bound one after the other by one
 * binder, with Spring Boot's conversions, placeholders, validation and order of sources,
 * from views of those sources that list the names of the widget being bound only (looking
 * a name up still asks the source itself). One binder for all of them also reads the
 * {@code Widget} record's constructor once, not once per widget. The rest of
 * {@code gateway} is bound as usual, and the widgets join it through
 * {@link GatewayProperties#withWidgets}, which checks them as a whole. With a real
 * homeserver ({@code gateway.homeserver.base-url}), a plain {@code token} must then be
 * long enough to be a secret: the token alone lets whoever has it act as the widget.
 * Without one, the embedded simulator serves any token, its public demo tokens included.
 */
@Component
class WidgetsBinding implements ConfigurationPropertiesBindHandlerAdvisor {

	private static final ConfigurationPropertyName GATEWAY = ConfigurationPropertyName.of("gateway");

	private static final ConfigurationPropertyName WIDGETS = ConfigurationPropertyName.of("gateway.widgets");

	private static final int WIDGET_ELEMENTS = WIDGETS.getNumberOfElements() + 1;

	private static final Log logger = LogFactory.getLog(WidgetsBinding.class);

	/** The shortest plain widget token served with a real homeserver. */
	static final int MIN_PLAIN_TOKEN_LENGTH = 32;

	/** The settings of a widget, as configuration names them. */
	private static final Set<String> WIDGET_KEYS = Arrays.stream(Widget.class.getRecordComponents())
		.map((component) -> component.getName().replaceAll("([A-Z])", "-$1").toLowerCase(Locale.ROOT))
		.collect(Collectors.toCollection(TreeSet::new));

	private final ConfigurableEnvironment environment;

	WidgetsBinding(ConfigurableEnvironment environment) {
		this.environment = environment;
	}

	@Override
	public BindHandler apply(BindHandler bindHandler) {
		return new AbstractBindHandler(bindHandler) {

			private @Nullable Map<String, Widget> widgets;

			@Override
			public <T> @Nullable Bindable<T> onStart(ConfigurationPropertyName name, Bindable<T> target,
					BindContext context) {
				if (WIDGETS.equals(name)) {
					this.widgets = bindWidgets(context.getSources(), bindHandler);
					return null;
				}
				return super.onStart(name, target, context);
			}

			@Override
			public @Nullable Object onSuccess(ConfigurationPropertyName name, Bindable<?> target, BindContext context,
					Object result) {
				Object bound = super.onSuccess(name, target, context, result);
				return (bound != null) ? withWidgets(name, bound) : null;
			}

			@Override
			public Object onCreate(ConfigurationPropertyName name, Bindable<?> target, BindContext context,
					Object result) {
				return withWidgets(name, super.onCreate(name, target, context, result));
			}

			private Object withWidgets(ConfigurationPropertyName name, Object bound) {
				if (GATEWAY.equals(name) && bound instanceof GatewayProperties properties && this.widgets != null) {
					GatewayProperties withWidgets = properties.withWidgets(this.widgets);
					checkPlainTokens(withWidgets);
					return withWidgets;
				}
				return bound;
			}

		};
	}

	private Map<String, Widget> bindWidgets(Iterable<ConfigurationPropertySource> sources, BindHandler handler) {
		// One binder for all widgets (it keeps what it learnt of the Widget type), over
		// views of the sources that list the names of the widget being bound; one pass
		// over each source groups its names under gateway.widgets by widget.
		List<ConfigurationPropertySource> views = new ArrayList<>();
		Map<ConfigurationPropertyName, Map<NamesOf, List<ConfigurationPropertyName>>> names = new LinkedHashMap<>();
		for (ConfigurationPropertySource source : sources) {
			if (source instanceof IterableConfigurationPropertySource iterable) {
				NamesOf view = new NamesOf(source);
				views.add(view);
				for (ConfigurationPropertyName name : iterable) {
					if (WIDGETS.isAncestorOf(name)) {
						names.computeIfAbsent(name.chop(WIDGET_ELEMENTS), (widget) -> new IdentityHashMap<>())
							.computeIfAbsent(view, (key) -> new ArrayList<>())
							.add(name);
					}
				}
			}
			else {
				views.add(source);
			}
		}
		names.forEach((widget, byView) -> warnOfUnknownKeys(widget, byView.values()));
		Binder binder = new Binder(views, new PropertySourcesPlaceholdersResolver(this.environment),
				ApplicationConversionService.getSharedInstance());
		Map<String, Widget> widgets = new LinkedHashMap<>();
		names.forEach((widget, byView) -> {
			for (ConfigurationPropertySource view : views) {
				if (view instanceof NamesOf own) {
					own.names = byView.getOrDefault(own, List.of());
				}
			}
			binder.bind(widget, Bindable.of(Widget.class), handler)
				.ifBound((bound) -> widgets.put(widget.getElement(WIDGET_ELEMENTS - 1, Form.ORIGINAL), bound));
		});
		return widgets;
	}

	/**
	 * Refuses a plain {@code token} shorter than {@value #MIN_PLAIN_TOKEN_LENGTH}
	 * characters once a real homeserver is configured, naming the key and never the
	 * token.
	 */
	private static void checkPlainTokens(GatewayProperties properties) {
		if (properties.homeserver().baseUrl() == null) {
			return;
		}
		properties.widgets().entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach((entry) -> {
			String widget = "gateway.widgets." + entry.getKey();
			List<String> tokens = entry.getValue().token();
			for (int i = 0; i < tokens.size(); i++) {
				if (tokens.get(i).length() < MIN_PLAIN_TOKEN_LENGTH) {
					String key = widget + ".token" + ((tokens.size() > 1) ? "[" + i + "]" : "");
					throw new IllegalArgumentException(key + " must be at least " + MIN_PLAIN_TOKEN_LENGTH
							+ " characters when gateway.homeserver.base-url is set, since the token alone lets "
							+ "whoever has it act as the widget: set " + widget + ".token-sha256 to the SHA-256 "
							+ "digest of a random token instead (the production form, which keeps the token out of "
							+ "the configuration; echo -n \"$TOKEN\" | sha256sum gives it), or use a token of at "
							+ "least " + MIN_PLAIN_TOKEN_LENGTH + " random characters (for example the output of "
							+ "'openssl rand -base64 32')");
				}
			}
		});
	}

	/**
	 * A key under a widget that is none of its settings binds to nothing: a misspelt
	 * {@code capabilites} would silently grant nothing. Each is named once, with the
	 * settings there are.
	 */
	private static void warnOfUnknownKeys(ConfigurationPropertyName widget,
			Iterable<List<ConfigurationPropertyName>> names) {
		Set<String> unknown = new TreeSet<>();
		for (List<ConfigurationPropertyName> ofSource : names) {
			for (ConfigurationPropertyName name : ofSource) {
				if (name.getNumberOfElements() > WIDGET_ELEMENTS) {
					String key = name.getElement(WIDGET_ELEMENTS, Form.DASHED);
					if (!WIDGET_KEYS.contains(key)) {
						unknown.add(key);
					}
				}
			}
		}
		unknown.forEach((key) -> logger.warn(widget + "." + key + " is not a widget setting and is ignored; a widget "
				+ "has " + String.join(", ", WIDGET_KEYS)));
	}

	/**
	 * A property source as the widget being bound sees it: its names are that widget's
	 * only, and a name is looked up in the source itself, with its relaxed forms and
	 * origins. A source that lists none of the widget's names holds none of its
	 * properties, and is not asked.
	 */
	private static final class NamesOf implements IterableConfigurationPropertySource {

		private final ConfigurationPropertySource source;

		private List<ConfigurationPropertyName> names = List.of();

		NamesOf(ConfigurationPropertySource source) {
			this.source = source;
		}

		@Override
		public Stream<ConfigurationPropertyName> stream() {
			return this.names.stream();
		}

		@Override
		public @Nullable ConfigurationProperty getConfigurationProperty(ConfigurationPropertyName name) {
			return this.names.isEmpty() ? null : this.source.getConfigurationProperty(name);
		}

		@Override
		public ConfigurationPropertyState containsDescendantOf(ConfigurationPropertyName name) {
			return this.names.isEmpty() ? ConfigurationPropertyState.ABSENT : this.source.containsDescendantOf(name);
		}

		@Override
		public Object getUnderlyingSource() {
			return this.source.getUnderlyingSource();
		}

	}

}
