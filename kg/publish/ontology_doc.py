"""The HTML reference of the ontology: every class and property with its IRI, label,
definition, super- and subclasses, domain and range, and external mappings.

One page, rendered from the ontology and its import module (``kg.pipeline.build.load_ontology``) with
the project's own template (``kg/publish/templates/ontology.html``), as pyLODE's would be, with nothing
fetched at run time. The server answers it at ``/ontology`` (HTML) and ``sarcoma-kg release``
writes it as ``ontology/sarcoma-kg.html``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from jinja2 import Environment, PackageLoader, select_autoescape
from rdflib import OWL, RDF, RDFS, BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS, SKOS

from kg.identifiers import ONTOLOGY_IRI as _ONTOLOGY_IRI
from kg.identifiers import ONTOLOGY_NAMESPACE
from kg.pipeline.ontology import load_ontology

__all__ = ["OntologyReference", "Term", "TreeNode", "ontology_reference", "reference_html"]

OBO = Namespace("http://purl.obolibrary.org/obo/")
IAO_DEFINITION = OBO["IAO_0000115"]
ONTOLOGY_IRI = URIRef(_ONTOLOGY_IRI)

#: The mapping predicates shown for each term, in this order, with their headings.
MAPPINGS = ((SKOS.exactMatch, "exact match"), (SKOS.closeMatch, "close match"), (SKOS.broadMatch, "broad match"),
            (SKOS.narrowMatch, "narrow match"), (SKOS.relatedMatch, "related match"),
            (OWL.equivalentClass, "equivalent class"))

#: The sections of the reference: (heading, anchor, the OWL declaration of its terms).
SECTIONS = (("Classes", "classes", OWL.Class), ("Object properties", "object-properties", OWL.ObjectProperty),
            ("Datatype properties", "datatype-properties", OWL.DatatypeProperty),
            ("Annotation properties", "annotation-properties", OWL.AnnotationProperty),
            ("Named individuals", "individuals", OWL.NamedIndividual))


@dataclass(frozen=True)
class Link:
    """A term or expression as shown: its text, and where it links (a term of this
    ontology: its anchor; another: its IRI; an expression: nowhere)."""

    text: str
    href: str | None = None
    curie: str | None = None


@dataclass(frozen=True)
class TreeNode:
    """A class of the class tree with the classes below it."""

    link: Link
    children: list[TreeNode]


@dataclass
class Term:
    """One term of the ontology, as its entry shows it.

    :param iri: the term's IRI
    :param anchor: its fragment in the page (the local name)
    :param label: its ``rdfs:label``
    :param kind: its type as a CURIE (``owl:Class``, ``owl:ObjectProperty``, ``owl:NamedIndividual`` ...)
    :param definition: its IAO:0000115 definition
    :param comments: its ``rdfs:comment`` texts
    :param relations: each relation shown (superclasses, domain, mappings ...) with its targets
    """

    iri: str
    anchor: str
    label: str
    kind: str
    definition: str | None = None
    comments: list[str] = field(default_factory=list)
    relations: list[tuple[str, list[Link]]] = field(default_factory=list)


@dataclass
class OntologyReference:
    """The ontology's metadata and its terms by section."""

    metadata: list[tuple[str, list[Link]]]
    title: str
    sections: list[tuple[str, str, list[Term]]]
    tree: list[TreeNode]


def _text(graph: Graph, node: URIRef, predicate: URIRef) -> str | None:
    values = sorted(str(value) for value in graph.objects(node, predicate) if isinstance(value, Literal))
    return values[0] if values else None


class _Renderer:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        prefixes = {"skg": ONTOLOGY_NAMESPACE, "obo": str(OBO), "skos": str(SKOS), "dcterms": str(DCTERMS),
                    "prov": "http://www.w3.org/ns/prov#", "owl": str(OWL), "rdfs": str(RDFS),
                    "xsd": "http://www.w3.org/2001/XMLSchema#", "efo": "http://www.ebi.ac.uk/efo/",
                    "vann": "http://purl.org/vocab/vann/"}
        self.prefixes = sorted(prefixes.items(), key=lambda item: -len(item[1]))

    def curie(self, iri: str) -> str:
        for prefix, namespace in self.prefixes:
            if iri.startswith(namespace) and len(iri) > len(namespace):
                local = iri[len(namespace):]
                if prefix == "obo" and "_" in local:  # OBO's own CURIEs: IAO:0000115
                    return local.replace("_", ":", 1)
                return f"{prefix}:{local}"
        return iri

    def link(self, node: object) -> Link:
        if isinstance(node, URIRef):
            iri = str(node)
            label = _text(self.graph, node, RDFS.label)
            if iri.startswith(ONTOLOGY_NAMESPACE):
                return Link(label or self.curie(iri), "#" + iri[len(ONTOLOGY_NAMESPACE):], self.curie(iri))
            return Link(label or self.curie(iri), iri, self.curie(iri))
        if isinstance(node, BNode):
            return Link(self.expression(node))
        return Link(str(node))

    def expression(self, node: BNode) -> str:
        """An anonymous class in Manchester-like words: ``A or B``, ``inverse (p) some C``."""
        graph = self.graph

        def name(item: object) -> str:
            return self.expression(item) if isinstance(item, BNode) else self.link(item).text

        for operator, word in ((OWL.unionOf, " or "), (OWL.intersectionOf, " and ")):
            members = graph.value(node, operator)
            if members is not None:
                return "(" + word.join(name(item) for item in Collection(graph, members)) + ")"
        members = graph.value(node, OWL.oneOf)
        if members is not None:
            return "{" + ", ".join(name(item) for item in Collection(graph, members)) + "}"
        inverse = graph.value(node, OWL.inverseOf)
        if inverse is not None:
            return f"inverse ({name(inverse)})"
        prop = graph.value(node, OWL.onProperty)
        if prop is not None:
            for restriction, word in ((OWL.someValuesFrom, "some"), (OWL.allValuesFrom, "only"), (OWL.hasValue, "value")):
                filler = graph.value(node, restriction)
                if filler is not None:
                    return f"{name(prop)} {word} {name(filler)}"
        return "(anonymous class)"

    def links(self, nodes: object) -> list[Link]:
        return sorted((self.link(node) for node in set(nodes)), key=lambda link: link.text.lower())  # type: ignore[call-overload]

    def disjoint_with(self, term: URIRef) -> list[Link]:
        found = set(self.graph.objects(term, OWL.disjointWith)) | set(self.graph.subjects(OWL.disjointWith, term))
        for axiom in self.graph.subjects(RDF.type, OWL.AllDisjointClasses):
            head = self.graph.value(axiom, OWL.members)
            members = list(Collection(self.graph, head)) if head is not None else []
            if term in members:
                found |= {member for member in members if member != term}
        return self.links(found)

    def term(self, node: URIRef, kind: URIRef) -> Term:
        graph = self.graph
        iri = str(node)
        entry = Term(iri=iri, anchor=iri[len(ONTOLOGY_NAMESPACE):], label=_text(graph, node, RDFS.label) or iri,
                     kind=self.curie(str(kind)),
                     definition=_text(graph, node, IAO_DEFINITION) or _text(graph, node, SKOS.definition),
                     comments=sorted(str(c) for c in graph.objects(node, RDFS.comment)))
        relations: list[tuple[str, list[Link]]] = []
        if kind == OWL.Class:
            relations += [("superclasses", self.links(graph.objects(node, RDFS.subClassOf))),
                          ("subclasses", self.links(graph.subjects(RDFS.subClassOf, node))),
                          ("disjoint with", self.disjoint_with(node)),
                          ("in the domain of", self.links(graph.subjects(RDFS.domain, node))),
                          ("in the range of", self.links(graph.subjects(RDFS.range, node))),
                          ("named individuals", self.links(s for s in graph.subjects(RDF.type, node)
                                                           if (s, RDF.type, OWL.NamedIndividual) in graph))]
        elif kind == OWL.NamedIndividual:
            relations.append(("types", self.links(t for t in graph.objects(node, RDF.type) if t != OWL.NamedIndividual)))
        else:
            relations += [("domain", self.links(graph.objects(node, RDFS.domain))),
                          ("range", self.links(graph.objects(node, RDFS.range))),
                          ("superproperties", self.links(graph.objects(node, RDFS.subPropertyOf))),
                          ("subproperties", self.links(graph.subjects(RDFS.subPropertyOf, node))),
                          ("inverse of", self.links(graph.objects(node, OWL.inverseOf)))]
        relations += [(heading, self.links(graph.objects(node, predicate))) for predicate, heading in MAPPINGS]
        entry.relations = [(heading, links) for heading, links in relations if links]
        return entry

    def tree(self, terms: list[URIRef]) -> list[TreeNode]:
        """The class tree (named superclasses only): a class under each of its parents."""
        graph, members = self.graph, set(terms)
        children: dict[URIRef, list[URIRef]] = {}
        roots = []
        for term in terms:
            parents = [p for p in graph.objects(term, RDFS.subClassOf) if isinstance(p, URIRef) and p in members]
            for parent in parents:
                children.setdefault(parent, []).append(term)
            if not parents:
                roots.append(term)

        def node(term: URIRef, path: frozenset[URIRef]) -> TreeNode:
            below = sorted((c for c in children.get(term, []) if c not in path), key=lambda c: self.link(c).text.lower())
            return TreeNode(self.link(term), [node(child, path | {child}) for child in below])

        return [node(root, frozenset({root})) for root in sorted(roots, key=lambda r: self.link(r).text.lower())]


def ontology_reference(graph: Graph | None = None) -> OntologyReference:
    """Collect the reference of the ontology's own terms (those under its namespace).

    :param graph: the ontology with its import module (default: the shipped one)
    :returns: its metadata, class tree and terms by section
    """
    graph = graph if graph is not None else load_ontology()
    renderer = _Renderer(graph)
    metadata = []
    for predicate in sorted(set(graph.predicates(ONTOLOGY_IRI)), key=str):
        if predicate == RDF.type:
            continue
        values = sorted(graph.objects(ONTOLOGY_IRI, predicate), key=str)
        metadata.append((renderer.curie(str(predicate)), [Link(str(v), str(v) if isinstance(v, URIRef) else None)
                                                          for v in values]))
    sections = []
    tree: list[TreeNode] = []
    for heading, anchor, kind in SECTIONS:
        nodes = sorted((s for s in set(graph.subjects(RDF.type, kind))
                        if isinstance(s, URIRef) and str(s).startswith(ONTOLOGY_NAMESPACE)),
                       key=lambda s: (_text(graph, s, RDFS.label) or str(s)).lower())
        if kind == OWL.Class:
            tree = renderer.tree(nodes)
        sections.append((heading, anchor, [renderer.term(node, kind) for node in nodes]))
    return OntologyReference(metadata=metadata, title=_text(graph, ONTOLOGY_IRI, DCTERMS.title) or str(ONTOLOGY_IRI),
                             sections=sections, tree=tree)


@cache
def reference_html(*, stylesheet: str | None = None, home: str | None = None) -> str:
    """Render the shipped ontology's reference as one HTML document.

    :param stylesheet: the URL of a stylesheet to link (the server's); none for a standalone file
    :param home: the URL of the site's home page to link (the server's); none for a standalone file
    :returns: the HTML text
    """
    environment = Environment(loader=PackageLoader("kg.publish", "templates"), autoescape=select_autoescape(default=True))
    return environment.get_template("ontology.html").render(reference=ontology_reference(), stylesheet=stylesheet,
                                                            home=home, iri=str(ONTOLOGY_IRI))
