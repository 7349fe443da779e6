//! Emulators of outside systems, for the demo and the tests (never used in production):
//! [`population_registry`] plays an X-Road security server together with the population
//! registry's person-lookup service behind it (`idp emulate population-registry`);
//! [`ocsp_responder`] is a certification authority's OCSP responder.

pub mod ocsp_responder;
pub mod population_registry;
