"""GLSL of the renderer: the mesh shader (skin, hair, fabric, frame, glass), the background, the shadow pass."""

MESH_VERTEX = """
#version 330
uniform mat4 view_projection;
in vec3 in_position;
in vec3 in_normal;
in vec3 in_tangent;
in vec2 in_uv;
out vec3 world_position;
out vec3 world_normal;
out vec3 world_tangent;
out vec2 uv;
void main() {
    world_position = in_position;
    world_normal = in_normal;
    world_tangent = in_tangent;
    uv = in_uv;
    gl_Position = view_projection * vec4(in_position, 1.0);
}
"""

# One shader for the head and what it wears; `material` picks the shading model.
# Skin (0): wrap lighting with a wider wrap for red than for blue, so the shadow terminator turns
# warm as light scattered under the skin would make it; Blinn-Phong highlights scaled by the gloss
# map (lips and eyes wet, hair dull) with Schlick's Fresnel for grazing sheen; bump shading from
# the relief map (wrinkles, pores) by the surface gradient of screen-space derivatives.
# Hair and lashes (1): Kajiya-Kay strands along the layer's tangent, a white primary and a tinted,
# shifted secondary highlight; coverage from the texture's alpha.
# Fabric (2): rough diffuse with a soft rim sheen. Frame (3): glossy plastic or metal.
# Glass (4): clear, a Fresnel reflection and a highlight, blended over what is behind.
MESH_FRAGMENT = """
#version 330
uniform sampler2D albedo_map;
uniform sampler2D detail_map;
uniform int material;
uniform float alpha_cutoff;
uniform float layer_gloss;
uniform float relief_depth;
uniform vec3 camera_position;
uniform vec3 key_direction;
uniform vec3 key_color;
uniform vec3 fill_direction;
uniform vec3 fill_color;
uniform vec3 ambient_color;
uniform sampler2DShadow shadow_map;
uniform mat4 light_view_projection;
uniform vec2 shadow_tile;  // this frame's tile: first u and width in u
uniform float shadow_texel;  // one texel, in tile units
uniform float shadow_strength;  // 0: no shadow
in vec3 world_position;
in vec3 world_normal;
in vec3 world_tangent;
in vec2 uv;
out vec4 frag_color;

const vec3 WRAP = vec3(0.45, 0.25, 0.2);

vec3 skin_light(vec3 n, vec3 v, vec3 l, vec3 color, vec3 albedo, float gloss) {
    float ndl = dot(n, l);
    vec3 diffuse = max(vec3(0.0), (ndl + WRAP) / (1.0 + WRAP));
    vec3 h = normalize(l + v);
    float fresnel = 0.04 + 0.96 * pow(1.0 - max(dot(h, v), 0.0), 5.0);
    float shininess = mix(12.0, 90.0, gloss);
    float specular = pow(max(dot(n, h), 0.0), shininess) * mix(0.05, 0.5, gloss) * fresnel * 4.0;
    return color * (albedo * diffuse + specular * step(0.0, ndl));
}

vec3 hair_light(vec3 n, vec3 t, vec3 v, vec3 l, vec3 color, vec3 albedo) {
    float diffuse = clamp(0.25 + 0.75 * dot(n, l), 0.0, 1.0);
    vec3 h = normalize(l + v);
    float primary = pow(sqrt(max(0.0, 1.0 - pow(dot(t + 0.08 * n, h), 2.0))), 80.0);
    float secondary = pow(sqrt(max(0.0, 1.0 - pow(dot(t - 0.1 * n, h), 2.0))), 24.0);
    vec3 specular = vec3(0.12 * primary) + 0.25 * secondary * albedo;
    return color * (albedo * diffuse + specular * layer_gloss * step(0.0, dot(n, l) + 0.3));
}

vec3 plain_light(vec3 n, vec3 v, vec3 l, vec3 color, vec3 albedo, float shininess, float strength) {
    float ndl = max(dot(n, l), 0.0);
    vec3 h = normalize(l + v);
    float fresnel = 0.04 + 0.96 * pow(1.0 - max(dot(h, v), 0.0), 5.0);
    float specular = pow(max(dot(n, h), 0.0), shininess) * strength * fresnel * 4.0;
    return color * (albedo * ndl + specular * step(0.0, ndl));
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

const vec2 POISSON[4] = vec2[](vec2(-0.613, 0.617), vec2(0.645, 0.493), vec2(-0.299, -0.791), vec2(0.421, -0.780));

// Share of the key light that reaches this point: 4 filtered depth comparisons (each the
// hardware's 2x2 blend) spread over a few millimetres, so the shadow edge is soft.
float key_visibility(vec3 n) {
    if (shadow_strength == 0.0) return 1.0;
    vec4 p = light_view_projection * vec4(world_position + 0.006 * n, 1.0);
    vec3 q = p.xyz * 0.5 + 0.5;
    if (any(lessThan(q, vec3(0.0))) || any(greaterThan(q, vec3(1.0)))) return 1.0;
    float lit = 0.0;
    for (int i = 0; i < 4; i++) {
        vec2 local = clamp(q.xy + 1.5 * shadow_texel * POISSON[i], 0.002, 0.998);
        lit += texture(shadow_map, vec3(shadow_tile.x + local.x * shadow_tile.y, local.y, q.z - 0.006));
    }
    return mix(1.0, lit / 4.0, shadow_strength);
}

vec3 lit(vec3 n, vec3 v, vec3 albedo, float gloss) {
    vec3 ambient = ambient_color * albedo * (0.75 + 0.25 * n.z);
    vec3 key = normalize(key_direction);
    vec3 key_light = key_color * key_visibility(n);
    vec3 fill = normalize(fill_direction);
    if (material == 0) {
        return ambient + skin_light(n, v, key, key_light, albedo, gloss)
            + skin_light(n, v, fill, fill_color, albedo, gloss);
    }
    if (material == 1) {
        vec3 t = normalize(world_tangent);
        return ambient + hair_light(n, t, v, key, key_light, albedo) + hair_light(n, t, v, fill, fill_color, albedo);
    }
    float shininess = material == 2 ? 6.0 : 60.0;
    float strength = material == 2 ? 0.03 : 0.35 * layer_gloss;
    vec3 color = ambient + plain_light(n, v, key, key_light, albedo, shininess, strength)
        + plain_light(n, v, fill, fill_color, albedo, shininess, strength);
    if (material == 2) {
        color += 0.15 * albedo * key_light * pow(1.0 - max(dot(n, v), 0.0), 3.0);
    }
    return color;
}

void main() {
    vec4 texel = texture(albedo_map, uv);
    if (texel.a < alpha_cutoff) discard;
    vec3 n = normalize(world_normal);
    if (!gl_FrontFacing) n = -n;
    vec3 v = normalize(camera_position - world_position);
    vec3 albedo = pow(texel.rgb, vec3(2.2));
    float gloss = layer_gloss;
    float alpha = 1.0;
    if (material == 0) {
        vec2 detail = texture(detail_map, uv).rg;
        gloss = detail.r;
        n = bumped(n, (detail.g - 0.5) * relief_depth);
    } else if (material == 1) {
        alpha = texel.a;
    } else if (material == 4) {
        alpha = 0.06 + 0.6 * pow(1.0 - max(dot(n, v), 0.0), 4.0);
    }
    vec3 color = lit(n, v, albedo, gloss);
    frag_color = vec4(pow(clamp(color, 0.0, 1.0), vec3(1.0 / 2.2)), alpha);
}
"""

# Metres of height that the relief map's full range (0-255) spans: wrinkles and pores are
# fractions of a millimetre deep.
RELIEF_DEPTH = 0.0012

BACKGROUND_VERTEX = """
#version 330
in vec2 in_corner;
out vec2 uv;
void main() {
    uv = in_corner * 0.5 + 0.5;
    gl_Position = vec4(in_corner, 0.0, 1.0);
}
"""

BACKGROUND_FRAGMENT = """
#version 330
uniform sampler2D background;
in vec2 uv;
out vec4 frag_color;
void main() { frag_color = vec4(texture(background, uv).rgb, 1.0); }
"""


# Depth from the key light; cut-out layers (hair) cast the shadow of their strands, not of their cards.
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

SHADOW_FRAGMENT = """
#version 330
uniform sampler2D albedo_map;
uniform float alpha_cutoff;
in vec2 uv;
void main() {
    if (texture(albedo_map, uv).a < alpha_cutoff) discard;
}
"""
