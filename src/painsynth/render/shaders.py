"""GLSL of the renderer: the mesh shaders (skin, hair, fabric, frame, glass), the background, the shadow pass."""

# The head and what it wears are drawn by one program per shading model, each compiled from the
# sources below with that model's `#define` (and SHADOWS when the key light casts shadows):
# llvmpipe runs both sides of every `if` under a lane mask, so one shader that chose its model by
# a uniform paid for all five models on every pixel (1.3x slower on the bare head alone).
# Skin: wrap lighting with a wider wrap for red than for blue, so the shadow terminator turns
# warm as light scattered under the skin would make it; an energy-normalised Blinn-Phong sheen
# ((s + 8) / 8 cos^s) with Schlick's Fresnel from 2-4 % at normal incidence, its exponent from
# the gloss map (broad on skin, s about 25; tight on wet lips and eyes, 60-100), whatever the
# skin's colour: on Monk 9-10 skin that sheen is most of what shows the face's shape (the weak
# narrow highlight before it left those faces flat). Bump shading from the relief map (wrinkles,
# pores) by the surface gradient of screen-space derivatives, in the diffuse light only: in the
# sheen, the bump scattered highlights into grain and drew the relief map's UV seams (down the
# sides of the nose) as dark lines.
# Strand (hair, lashes): Kajiya-Kay strands along the layer's tangent, a white primary and a
# tinted, shifted secondary highlight; coverage from the texture's alpha.
# Fabric: rough diffuse with a soft rim sheen. Frame: glossy plastic or metal.
# Glass: clear, a Fresnel reflection and a highlight, blended over what is behind.
SHADING_MODELS = ("skin", "strand", "fabric", "frame", "glass")

# Share of the key light that reaches a point: 4 filtered depth comparisons (each the hardware's
# 2x2 blend) spread over a few millimetres, so the shadow edge is soft. Skin and hair look it up
# per vertex and interpolate it: at 224x224 their triangles are a few pixels wide, while
# llvmpipe shades every triangle in blocks of 8 pixels, so per pixel it cost about 4 lookups per
# visible pixel (a quarter of the skin's cost) for a soft edge that moved by about one pixel
# (mean absolute difference 0.03-0.3 levels per image). Fabric and glasses, whose vertices are
# centimetres apart, look it up per pixel.
_SHADOWED_PER_VERTEX = ("skin", "strand")
_SHADOW_LOOKUP = """
uniform sampler2DShadow shadow_map;
uniform mat4 light_view_projection;
uniform vec2 shadow_tile;  // this frame's tile: first u and width in u
uniform float shadow_texel;  // one texel, in tile units

const vec2 POISSON[4] = vec2[](vec2(-0.613, 0.617), vec2(0.645, 0.493), vec2(-0.299, -0.791), vec2(0.421, -0.780));

float key_visibility(vec3 position, vec3 n) {
    vec4 p = light_view_projection * vec4(position + 0.006 * n, 1.0);
    vec3 q = p.xyz * 0.5 + 0.5;
    if (any(lessThan(q, vec3(0.0))) || any(greaterThan(q, vec3(1.0)))) return 1.0;
    float lit = 0.0;
    for (int i = 0; i < 4; i++) {
        vec2 local = clamp(q.xy + 1.5 * shadow_texel * POISSON[i], 0.002, 0.998);
        lit += texture(shadow_map, vec3(shadow_tile.x + local.x * shadow_tile.y, local.y, q.z - 0.006));
    }
    return lit / 4.0;
}
"""

_MESH_VERTEX = """
uniform mat4 view_projection;
in vec3 in_position;
in vec3 in_normal;
in vec3 in_tangent;
in vec2 in_uv;
out vec3 world_position;
out vec3 world_normal;
out vec3 world_tangent;
out vec2 uv;
#if defined(VERTEX_SHADOWS)
out float vertex_key_visibility;
SHADOW_LOOKUP
#endif
void main() {
    world_position = in_position;
    world_normal = in_normal;
    world_tangent = in_tangent;
    uv = in_uv;
    gl_Position = view_projection * vec4(in_position, 1.0);
#if defined(VERTEX_SHADOWS)
    vertex_key_visibility = key_visibility(in_position, in_normal);
#endif
}
"""

_MESH_FRAGMENT = """
uniform sampler2D albedo_map;
uniform sampler2D detail_map;
uniform float layer_gloss;
uniform float layer_edge_fade;
uniform float relief_depth;
uniform vec3 camera_position;
uniform vec3 key_direction;  // unit vectors
uniform vec3 key_color;
uniform vec3 fill_direction;
uniform vec3 fill_color;
uniform vec3 ambient_color;
in vec3 world_position;
in vec3 world_normal;
in vec3 world_tangent;
in vec2 uv;
out vec4 frag_color;

float schlick(vec3 h, vec3 v, float f0) {
    float f = 1.0 - max(dot(h, v), 0.0);
    float f2 = f * f;
    return f0 + (1.0 - f0) * f2 * f2 * f;
}

#if defined(SKIN)
const vec3 WRAP = vec3(0.45, 0.25, 0.2);
const vec2 SKIN_SHININESS = vec2(10.0, 120.0);
const float SKIN_F0 = 0.02;

vec3 light(vec3 n, vec3 sheen_n, vec3 v, vec3 l, vec3 color, vec3 albedo, float gloss) {
    float ndl = dot(n, l);
    vec3 diffuse = max(vec3(0.0), (ndl + WRAP) / (1.0 + WRAP));
    vec3 h = normalize(l + v);
    float shininess = mix(SKIN_SHININESS.x, SKIN_SHININESS.y, gloss * gloss);
    float fresnel = schlick(h, v, SKIN_F0 * (1.0 + gloss));
    float specular = pow(max(dot(sheen_n, h), 0.0), shininess) * (shininess + 8.0) / 8.0 * fresnel * max(ndl, 0.0);
    return color * (albedo * diffuse + specular);
}

vec3 bumped(vec3 n, float height) {
    vec3 dpdx = dFdx(world_position);
    vec3 dpdy = dFdy(world_position);
    vec3 r1 = cross(dpdy, n);
    vec3 r2 = cross(n, dpdx);
    float det = dot(dpdx, r1);
    vec3 gradient = sign(det) * (dFdx(height) * r1 + dFdy(height) * r2);
    return normalize(abs(det) * n - gradient);
}
#elif defined(STRAND)
const float STRAND_SHOULDER = 0.6;  // linear
vec3 light(vec3 n, vec3 t, vec3 v, vec3 l, vec3 color, vec3 albedo) {
    float diffuse = clamp(0.25 + 0.75 * dot(n, l), 0.0, 1.0);
    vec3 h = normalize(l + v);
    // sin^80 and sin^24 of the angle between the (shifted) strand and the half vector
    float cos_primary = dot(t + 0.08 * n, h);
    float cos_secondary = dot(t - 0.1 * n, h);
    float primary = pow(max(0.0, 1.0 - cos_primary * cos_primary), 40.0);
    float secondary = pow(max(0.0, 1.0 - cos_secondary * cos_secondary), 12.0);
    vec3 specular = vec3(0.12 * primary) + 0.25 * secondary * albedo;
    return color * (albedo * diffuse + specular * layer_gloss * step(0.0, dot(n, l) + 0.3));
}
#else
#if defined(FABRIC)
const float SHININESS = 6.0;
#define STRENGTH 0.03
#else
const float SHININESS = 60.0;
#define STRENGTH (0.35 * layer_gloss)
#endif
vec3 light(vec3 n, vec3 v, vec3 l, vec3 color, vec3 albedo) {
    float ndl = max(dot(n, l), 0.0);
    vec3 h = normalize(l + v);
    float specular = pow(max(dot(n, h), 0.0), SHININESS) * STRENGTH * schlick(h, v, 0.04) * 4.0;
    return color * (albedo * ndl + specular * step(0.0, ndl));
}
#endif

#if defined(VERTEX_SHADOWS)
in float vertex_key_visibility;
#elif defined(SHADOWS)
SHADOW_LOOKUP
#endif

void main() {
    vec4 texel = texture(albedo_map, uv);
#if defined(STRAND)
    if (texel.a < 0.25) discard;
#elif defined(FABRIC) || defined(FRAME)
    if (texel.a < 0.5) discard;
#endif
    vec3 n = normalize(world_normal);
#if !defined(SKIN)  // skin is drawn with its back faces culled
    if (!gl_FrontFacing) n = -n;
#endif
    vec3 v = normalize(camera_position - world_position);
    vec3 albedo = pow(texel.rgb, vec3(2.2));
    float alpha = 1.0;
#if defined(SKIN)
    vec2 detail = texture(detail_map, uv).rg;
    vec3 sheen_n = n;
    n = bumped(n, (detail.g - 0.5) * relief_depth);
#elif defined(STRAND)
    // Shells of coily hair fade out where they are seen edge on: there the strands of a shell, drawn
    // over one another, drew each shell's outline as a dark line round the hair, a stack of glassy sheets.
    alpha = texel.a * mix(1.0, smoothstep(0.1, 0.5, abs(dot(n, v))), layer_edge_fade);
    if (alpha < 0.15) discard;
#elif defined(GLASS)
    float facing = 1.0 - max(dot(n, v), 0.0);
    float facing2 = facing * facing;
    alpha = 0.06 + 0.6 * facing2 * facing2;
#endif
    vec3 ambient = ambient_color * albedo * (0.75 + 0.25 * n.z);
#if defined(VERTEX_SHADOWS)
    vec3 key_light = key_color * vertex_key_visibility;
#elif defined(SHADOWS)
    vec3 key_light = key_color * key_visibility(world_position, n);
#else
    vec3 key_light = key_color;
#endif
#if defined(SKIN)
    vec3 color = ambient + light(n, sheen_n, v, key_direction, key_light, albedo, detail.r)
        + light(n, sheen_n, v, fill_direction, fill_color, albedo, detail.r);
#elif defined(STRAND)
    vec3 t = normalize(world_tangent);
    vec3 color = ambient + light(n, t, v, key_direction, key_light, albedo)
        + light(n, t, v, fill_direction, fill_color, albedo);
#else
    vec3 color = ambient + light(n, v, key_direction, key_light, albedo) + light(n, v, fill_direction, fill_color, albedo);
#endif
#if defined(FABRIC)
    float rim = 1.0 - max(dot(n, v), 0.0);
    color += 0.15 * albedo * key_light * rim * rim * rim;
#endif
#if defined(STRAND)
    // Light hair rolls off towards white instead of clipping (linear above STRAND_SHOULDER): under the
    // lights raised for dark skin, white hair and beards burnt out flat white (2.3 % of a white-haired,
    // full-bearded Monk 10 head's image at 250 or more in even light, 0.7 % with it). Dark hair never
    // reaches the shoulder.
    color = mix(color, STRAND_SHOULDER + (1.0 - STRAND_SHOULDER) * (1.0 - exp((STRAND_SHOULDER - color)
        / (1.0 - STRAND_SHOULDER))), step(STRAND_SHOULDER, color));
#endif
    frag_color = vec4(pow(clamp(color, 0.0, 1.0), vec3(1.0 / 2.2)), alpha);
}
"""


def mesh_program(shading: str, shadows: bool) -> dict[str, str]:
    """Vertex and fragment shader of one of :data:`SHADING_MODELS`, with or without the key light's
    shadow (keyword arguments for ``moderngl.Context.program``)."""
    if shading not in SHADING_MODELS:
        raise ValueError(f"unknown shading model {shading!r}; allowed: {', '.join(SHADING_MODELS)}")
    names = [shading.upper()]
    if shadows:
        names += ["SHADOWS"] + (["VERTEX_SHADOWS"] if shading in _SHADOWED_PER_VERTEX else [])
    defines = "#version 330\n" + "".join(f"#define {name}\n" for name in names)
    return {stage: defines + source.replace("SHADOW_LOOKUP", _SHADOW_LOOKUP)
            for stage, source in (("vertex_shader", _MESH_VERTEX), ("fragment_shader", _MESH_FRAGMENT))}


# Metres of height that the relief map's full range (0-255) spans: wrinkles and pores are
# fractions of a millimetre deep.
RELIEF_DEPTH = 0.0012

# The views' backgrounds, one texel per pixel of the tiled framebuffer, behind everything drawn
# (at the far plane, where the depth is still clear).
BACKGROUND_VERTEX = """
#version 330
in vec2 in_corner;
void main() { gl_Position = vec4(in_corner, 1.0, 1.0); }
"""

BACKGROUND_FRAGMENT = """
#version 330
uniform sampler2D backdrop;
out vec4 frag_color;
void main() { frag_color = texelFetch(backdrop, ivec2(gl_FragCoord.xy), 0); }
"""

# Depth from the key light. Casters with holes in their texture (hair) cast the shadow of their
# strands, not of their cards, by an alpha test; the rest need no fragment work at all, which
# lets llvmpipe skip shading and write depth directly (the linker drops their unused UVs).
SHADOW_VERTEX = """
#version 330
uniform mat4 light_view_projection;
in vec3 in_position;
in vec2 in_uv;
out vec2 uv;
void main() {
    uv = in_uv;
    gl_Position = light_view_projection * vec4(in_position, 1.0);
}
"""

SOLID_SHADOW_FRAGMENT = """
#version 330
void main() {}
"""

CUTOUT_SHADOW_FRAGMENT = """
#version 330
uniform sampler2D albedo_map;
in vec2 uv;
void main() {
    if (texture(albedo_map, uv).a < 0.5) discard;
}
"""
