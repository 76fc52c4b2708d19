package org.widgetgateway;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

/**
 * A package depends on what it uses, never the reverse: the error vocabulary depends on
 * no feature, the homeserver client knows nothing of widgets or of what they are
 * answered, and the pure capability model depends on nothing but itself.
 */
class PackageDependencyTests {

	private static final JavaClasses GATEWAY = new ClassFileImporter()
		.withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
		.importPackages("org.widgetgateway");

	@Test
	void problemDependsOnNoOtherPackageOfTheGateway() {
		noClasses().that()
			.resideInAPackage("org.widgetgateway.problem..")
			.should()
			.dependOnClassesThat()
			.resideInAnyPackage("org.widgetgateway.homeserver..", "org.widgetgateway.event..",
					"org.widgetgateway.widget..", "org.widgetgateway.transport..", "org.widgetgateway.simulator..",
					"org.widgetgateway.security..", "org.widgetgateway.capability..")
			.check(GATEWAY);
	}

	@Test
	void homeserverClientKnowsNothingOfWidgetsOrTheirAnswers() {
		noClasses().that()
			.resideInAPackage("org.widgetgateway.homeserver..")
			.should()
			.dependOnClassesThat()
			.resideInAnyPackage("org.widgetgateway.problem..", "org.widgetgateway.event..",
					"org.widgetgateway.widget..", "org.widgetgateway.transport..", "org.widgetgateway.capability..")
			.check(GATEWAY);
	}

	@Test
	void capabilityModelIsPure() {
		noClasses().that()
			.resideInAPackage("org.widgetgateway.capability..")
			.should()
			.dependOnClassesThat()
			.resideInAnyPackage("org.springframework..", "org.widgetgateway.homeserver..", "org.widgetgateway.event..",
					"org.widgetgateway.widget..")
			.check(GATEWAY);
	}

	@Test
	void theStoreHoldsStateForFeaturesWithoutKnowingThem() {
		noClasses().that()
			.resideInAPackage("org.widgetgateway.store..")
			.should()
			.dependOnClassesThat()
			.resideInAnyPackage("org.widgetgateway.event..", "org.widgetgateway.ratelimit..",
					"org.widgetgateway.stream..", "org.widgetgateway.homeserver..", "org.widgetgateway.widget..",
					"org.widgetgateway.problem..", "org.widgetgateway.transport..")
			.check(GATEWAY);
	}

	@Test
	void onlyTheStoreTalksToRedis() {
		noClasses().that()
			.resideOutsideOfPackage("org.widgetgateway.store..")
			.should()
			.dependOnClassesThat()
			.resideInAnyPackage("org.springframework.data.redis..", "io.lettuce..", "io.github.bucket4j..")
			.check(GATEWAY);
	}

}
