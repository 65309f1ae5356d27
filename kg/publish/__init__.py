"""What is written from a built graph for other tools: exports, the release, mappings, VoID,
statistics, FHIR, the exports' JSON-LD context and the ontology's HTML reference."""
